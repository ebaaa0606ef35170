// Decoding what a server wrote on the error stream, read to its end
// (client-go tools/remotecommand errorDecoderV1/V2/V4).
#pragma once

#include <string>
#include <string_view>

#include "core/base/result.h"
#include "core/remotecommand/protocol_version.h"

namespace kproxy::remotecommand {

// How a remote command ended, when it ran.
struct ExecResult {
  int exit_code = 0;    // the remote process's status, 0-255
  std::string message;  // kubectl's stderr line ("command terminated with exit code N"), or ""
};

// The error stream never needs more; more is a protocol error, not an allocation.
inline constexpr size_t kMaxErrorStreamBytes = 1 << 20;

// Each consumes the whole error-stream payload and returns the outcome.
// v1: empty → success; text → kServer "Error executing remote command: <text>".
Result<ExecResult> DecodeErrorStreamV1(std::string_view payload);
// v2, v3: empty → success; text → kServer "error executing remote command: <text>".
Result<ExecResult> DecodeErrorStreamV2(std::string_view payload);
// v4, v5: empty → success; Status JSON: Success → 0; Failure/NonZeroExitCode → the first
// ExitCode cause (0-255) as ExecResult{N, "command terminated with exit code N"}; other
// Failure → kServer with the Status message (kubectl prints it after "error: "); malformed →
// kProtocol "error stream protocol error: ...".
Result<ExecResult> DecodeErrorStreamV4(std::string_view payload);

// Dispatches on the version.
Result<ExecResult> DecodeErrorStream(ProtocolVersion version, std::string_view payload);

// "command terminated with exit code N", the text kubectl prints for a remote exit.
std::string ExitCodeMessage(int exit_code);

}  // namespace kproxy::remotecommand
