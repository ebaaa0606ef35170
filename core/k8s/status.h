// metav1.Status: the object Kubernetes servers use for errors (HTTP bodies, the remotecommand
// v4/v5 error stream). Decoding never throws and never trusts its input; encoding writes what
// Go's encoding/json writes for the struct (field order, omitempty, HTML escaping), so the
// simulator's bytes match a kubelet's.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"

namespace kproxy::k8s {

// Well-known values (k8s.io/apimachinery/pkg/apis/meta/v1/types.go,
// k8s.io/apimachinery/pkg/util/remotecommand/constants.go).
inline constexpr const char* kStatusSuccess = "Success";
inline constexpr const char* kStatusFailure = "Failure";
inline constexpr const char* kReasonNonZeroExitCode = "NonZeroExitCode";
inline constexpr const char* kCauseExitCode = "ExitCode";
inline constexpr const char* kReasonUnauthorized = "Unauthorized";
inline constexpr const char* kReasonInternalError = "InternalError";

// A StatusCause. Go names the field Type but serializes it as "reason".
struct StatusCause {
  std::string reason;
  std::string message;
  std::string field;
};

struct StatusDetails {
  std::string name;
  std::string group;
  std::string kind;
  std::string uid;
  std::vector<StatusCause> causes;
  int retry_after_seconds = 0;
};

// Named ApiStatus to stay apart from kproxy::Status (the result type).
struct ApiStatus {
  std::string kind;
  std::string api_version;
  // Kubernetes always writes "metadata":{}; access proxies (Pomerium) omit it. The 403
  // diagnostics tell the two apart with this flag.
  bool has_metadata = false;
  std::string status;  // "Success", "Failure" or "" (missing)
  std::string message;
  std::string reason;
  std::optional<StatusDetails> details;
  int code = 0;  // HTTP status code, 0 when absent
};

// Upper bound on the JSON we decode; a Status is a few hundred bytes.
inline constexpr size_t kMaxStatusBytes = 1 << 20;

// Consumes one JSON text; returns the Status or a kProtocol error describing why it is not one
// (not JSON, truncated, not an object, a known field with the wrong type, too large or too
// deeply nested). Unknown fields are ignored and field names match case-insensitively, as Go's
// json.Unmarshal does. Decoding `null` gives an empty Status, as in Go.
Result<ApiStatus> DecodeStatus(std::string_view json);

// kubectl's one-line text for a Status error (cmdutil.StandardErrorMessage):
// "Error from server (<Reason>): <message>", "Error from server: <message>" when the reason is
// empty, "error: You must be logged in to the server (<message>)" for Unauthorized.
std::string KubectlErrorText(const ApiStatus& status);

// Emits the JSON Go's json.Marshal writes for the Status (no trailing newline).
std::string EncodeStatus(const ApiStatus& status);

// Builders for the server role, as the kubelet fills them in (remotecommand/exec.go).
ApiStatus SuccessStatus();
// Failure/NonZeroExitCode with causes [{reason: ExitCode, message: "<exit_code>"}] and message
// "command terminated with non-zero exit code: error executing command [<argv...>], exit code N".
ApiStatus NonZeroExitCodeStatus(int exit_code, const std::vector<std::string>& command);
// Failure with the given reason, message and HTTP code (e.g. "InternalError", 500).
ApiStatus FailureStatus(std::string reason, std::string message, int code);

}  // namespace kproxy::k8s
