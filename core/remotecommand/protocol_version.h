// remotecommand protocol versions and their names on the wire (X-Stream-Protocol-Version,
// Sec-WebSocket-Protocol). k8s.io/apimachinery/pkg/util/remotecommand/constants.go.
#pragma once

#include <string_view>

#include "core/base/result.h"

namespace kproxy::remotecommand {

enum class ProtocolVersion {
  kV1 = 1,  // channel.k8s.io: plain-text errors, stdin never closed
  kV2 = 2,  // v2.channel.k8s.io: stdin half-close, stderr dropped with tty
  kV3 = 3,  // v3.channel.k8s.io: resize stream
  kV4 = 4,  // v4.channel.k8s.io: Status JSON on the error stream
  kV5 = 5,  // v5.channel.k8s.io: v4 + stdin close signal over WebSocket
};

struct NegotiatedProtocol {
  ProtocolVersion version = ProtocolVersion::kV1;
  bool base64 = false;  // base64.channel.k8s.io / v4.base64.channel.k8s.io (WebSocket text)
};

// Consumes a protocol name; returns its version or kProtocol for a name we do not speak.
Result<NegotiatedProtocol> ParseProtocolName(std::string_view name);

// The binary-protocol name of a version, e.g. "v5.channel.k8s.io", "channel.k8s.io".
const char* ProtocolName(ProtocolVersion version);

}  // namespace kproxy::remotecommand
