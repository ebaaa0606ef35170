#include "core/remotecommand/protocol_version.h"

#include <string>

namespace kproxy::remotecommand {

Result<NegotiatedProtocol> ParseProtocolName(std::string_view name) {
  struct Entry {
    std::string_view name;
    ProtocolVersion version;
    bool base64;
  };
  static constexpr Entry kNames[] = {
      {"v5.channel.k8s.io", ProtocolVersion::kV5, false},
      {"v4.channel.k8s.io", ProtocolVersion::kV4, false},
      {"v3.channel.k8s.io", ProtocolVersion::kV3, false},
      {"v2.channel.k8s.io", ProtocolVersion::kV2, false},
      {"channel.k8s.io", ProtocolVersion::kV1, false},
      {"v4.base64.channel.k8s.io", ProtocolVersion::kV4, true},
      {"base64.channel.k8s.io", ProtocolVersion::kV1, true},
  };
  for (const Entry& e : kNames)
    if (e.name == name) return NegotiatedProtocol{e.version, e.base64};
  return MakeError(ErrorCode::kProtocol,
                   "unknown remotecommand protocol \"" + std::string(name) + "\"");
}

const char* ProtocolName(ProtocolVersion version) {
  switch (version) {
    case ProtocolVersion::kV1:
      return "channel.k8s.io";
    case ProtocolVersion::kV2:
      return "v2.channel.k8s.io";
    case ProtocolVersion::kV3:
      return "v3.channel.k8s.io";
    case ProtocolVersion::kV4:
      return "v4.channel.k8s.io";
    case ProtocolVersion::kV5:
      return "v5.channel.k8s.io";
  }
  return "channel.k8s.io";
}

}  // namespace kproxy::remotecommand
