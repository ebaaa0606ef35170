#include "core/remotecommand/protocol_versions.h"

namespace kproxy::remotecommand {

// v1 servers write the failure's text; client-go v1 capitalizes "Error executing".
Result<ExecResult> StreamProtocolV1::DecodeError(std::string_view payload) const {
  return DecodeErrorStreamV1(payload);
}

}  // namespace kproxy::remotecommand
