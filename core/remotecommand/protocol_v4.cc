#include "core/remotecommand/protocol_versions.h"

namespace kproxy::remotecommand {

// v4/v5 servers write one metav1.Status; NonZeroExitCode carries the exit code.
Result<ExecResult> StreamProtocolV4::DecodeError(std::string_view payload) const {
  return DecodeErrorStreamV4(payload);
}

}  // namespace kproxy::remotecommand
