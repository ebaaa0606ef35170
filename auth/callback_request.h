// Incremental parser for the one HTTP/1.1 request head the loopback callback listener reads
// (auth.md §4.4). A codec: bytes in, a parsed request line out, no I/O. Partial input is
// normal; the parser stays failed after an error.
#pragma once

#include <string>
#include <string_view>

namespace kproxy::auth {

// A request head is tiny (a redirect carrying a JWT of a few KB); refuse larger ones.
inline constexpr size_t kMaxCallbackHeadBytes = 16 * 1024;

class CallbackRequestParser {
 public:
  enum class State { kReading, kDone, kFailed };

  // Consumes bytes; returns the state after them. Bytes after the head are ignored.
  State Feed(std::string_view bytes);
  State state() const { return state_; }

  // Valid in kDone.
  const std::string& method() const { return method_; }
  const std::string& target() const { return target_; }  // origin-form "/path?query"
  // Valid in kFailed.
  const std::string& error() const { return error_; }

 private:
  State Fail(std::string why);
  State ParseHead();

  State state_ = State::kReading;
  std::string head_;
  std::string method_, target_, error_;
};

// Splits an origin-form target into path and query (without '?').
void SplitTarget(std::string_view target, std::string* path, std::string* query);

}  // namespace kproxy::auth
