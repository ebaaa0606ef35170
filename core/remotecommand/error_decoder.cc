#include "core/remotecommand/error_decoder.h"

#include <cstdio>

#include "core/k8s/status.h"

namespace kproxy::remotecommand {
namespace {

// Go's %q, close enough for error text: quotes, backslashes, control and non-ASCII bytes
// escaped, so a hostile payload cannot put raw control bytes on the user's terminal.
std::string GoQuote(std::string_view s) {
  constexpr size_t kMaxQuoted = 256;
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < kMaxQuoted; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMaxQuoted) out += "...";
  return out + "\"";
}

Error StreamProtocolError(std::string what) {
  return MakeError(ErrorCode::kProtocol, "error stream protocol error: " + std::move(what));
}

// strconv.ParseUint(s, 10, 8): digits only, no sign or spaces, value <= 255.
bool ParseExitCode(std::string_view s, int* out) {
  if (s.empty()) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
    if (v > 255) return false;
  }
  *out = v;
  return true;
}

}  // namespace

std::string ExitCodeMessage(int exit_code) {
  return "command terminated with exit code " + std::to_string(exit_code);
}

Result<ExecResult> DecodeErrorStreamV1(std::string_view payload) {
  if (payload.empty()) return ExecResult{};
  return MakeError(ErrorCode::kServer, "Error executing remote command: " + std::string(payload));
}

Result<ExecResult> DecodeErrorStreamV2(std::string_view payload) {
  if (payload.empty()) return ExecResult{};
  return MakeError(ErrorCode::kServer, "error executing remote command: " + std::string(payload));
}

Result<ExecResult> DecodeErrorStreamV4(std::string_view payload) {
  if (payload.empty()) return ExecResult{};
  Result<k8s::ApiStatus> decoded = k8s::DecodeStatus(payload);
  if (!decoded.ok())
    return StreamProtocolError(decoded.error().message + " in " + GoQuote(payload));
  const k8s::ApiStatus& status = *decoded;
  if (status.status == k8s::kStatusSuccess) return ExecResult{};
  if (status.status != k8s::kStatusFailure) return StreamProtocolError("unknown error");
  if (status.reason == k8s::kReasonNonZeroExitCode) {
    if (!status.details) return StreamProtocolError("details must be set");
    for (const k8s::StatusCause& cause : status.details->causes) {
      if (cause.reason != k8s::kCauseExitCode) continue;
      int code = 0;
      if (!ParseExitCode(cause.message, &code))
        return StreamProtocolError("invalid exit code value " + GoQuote(cause.message));
      return ExecResult{code, ExitCodeMessage(code)};
    }
    return StreamProtocolError("no ExitCode cause given");
  }
  return MakeError(ErrorCode::kServer, status.message);
}

Result<ExecResult> DecodeErrorStream(ProtocolVersion version, std::string_view payload) {
  switch (version) {
    case ProtocolVersion::kV1:
      return DecodeErrorStreamV1(payload);
    case ProtocolVersion::kV2:
    case ProtocolVersion::kV3:
      return DecodeErrorStreamV2(payload);
    case ProtocolVersion::kV4:
    case ProtocolVersion::kV5:
      return DecodeErrorStreamV4(payload);
  }
  return DecodeErrorStreamV4(payload);
}

}  // namespace kproxy::remotecommand
