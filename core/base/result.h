// Typed results for module boundaries: an error code and a message, no exceptions.
// The CLI maps codes to exit statuses in exactly one place (core/base/exit_code.h).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace kproxy {

enum class ErrorCode {
  kUsage,            // bad flags or arguments
  kConfig,           // kubeconfig or other configuration is invalid or missing
  kNotFound,         // a named object (pod, context, file) does not exist
  kUnauthenticated,  // 401 / session missing or expired: log in again
  kLoginRequired,    // non-interactive caller needs an interactive login first
  kForbidden,        // 403 from RBAC or an access-proxy policy
  kUpgradeRejected,  // the server or an intermediary refused the protocol upgrade
  kProtocol,         // the peer spoke the wire protocol wrongly
  kUnavailable,      // DNS/TCP/TLS failure, connection lost, server unreachable
  kTimeout,          // a bounded wait ran out
  kCancelled,        // the user interrupted (SIGINT)
  kServer,           // the API server answered with a Status error
  kInternal,         // a bug in kproxy
};

const char* ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

inline Error MakeError(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

// Result<T>: either a value or an Error.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Status: a Result without a value.
class Status {
 public:
  Status() = default;
  Status(Error error) : ok_(false), error_(std::move(error)) {}  // NOLINT
  static Status Ok() { return Status(); }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  bool ok_ = true;
  Error error_;
};

}  // namespace kproxy
