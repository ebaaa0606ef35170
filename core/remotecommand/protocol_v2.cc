#include "core/remotecommand/protocol_versions.h"

namespace kproxy::remotecommand {

// v2/v3 servers write the failure's text (a remote exit code is only in that text).
Result<ExecResult> StreamProtocolV2::DecodeError(std::string_view payload) const {
  return DecodeErrorStreamV2(payload);
}

}  // namespace kproxy::remotecommand
