#include "tests/sim/streaming/negotiation.h"

#include <algorithm>

#include "core/websocket/channel_format.h"

namespace kproxy::sim::streaming {

namespace {

std::string Trim(std::string s) {
  auto not_space = [](unsigned char c) { return c != ' ' && c != '\t'; };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

// Go's fmt %v of a []string: "[a b c]".
std::string GoList(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + v[i];
  return out + "]";
}

}  // namespace

std::vector<std::string> OfferedWebSocketProtocols(const std::vector<std::string>& header_lines) {
  std::vector<std::string> out;
  if (header_lines.empty()) return out;
  const std::string& line = header_lines.front();
  size_t start = 0;
  while (start <= line.size()) {
    size_t comma = line.find(',', start);
    if (comma == std::string::npos) comma = line.size();
    std::string token = Trim(line.substr(start, comma - start));
    if (!token.empty()) out.push_back(token);
    start = comma + 1;
  }
  return out;
}

std::optional<std::string> ChooseWebSocketProtocol(const std::vector<std::string>& offered,
                                                   const std::vector<std::string>& supported) {
  std::vector<std::string> candidates = offered.empty() ? std::vector<std::string>{""} : offered;
  for (const std::string& p : candidates)
    if (std::find(supported.begin(), supported.end(), p) != supported.end()) return p;
  return std::nullopt;
}

SpdyNegotiation NegotiateSpdyVersion(const std::vector<std::string>& client_versions,
                                     const std::vector<std::string>& server_versions) {
  SpdyNegotiation n;
  if (client_versions.empty()) {
    n.http_status = 400;
    n.body = "unable to upgrade: X-Stream-Protocol-Version is required\n";
    return n;
  }
  for (const std::string& c : client_versions) {
    if (std::find(server_versions.begin(), server_versions.end(), c) != server_versions.end()) {
      n.ok = true;
      n.version = c;
      return n;
    }
  }
  n.http_status = 403;
  n.accepted = server_versions;
  n.body = "unable to upgrade: unable to negotiate protocol: client supports " +
           GoList(client_versions) + ", server accepts " + GoList(server_versions) + "\n";
  return n;
}

std::vector<std::string> ExecWebSocketProtocols(bool allow_v5) {
  std::vector<std::string> p;
  if (allow_v5) p.push_back(ws::kProtocolV5);
  // The kubelet's wsstream table: "" and channel.k8s.io binary, base64, v4 binary and base64.
  for (const char* name :
       {ws::kProtocolV4, ws::kProtocolV4Base64, ws::kProtocolV1, ws::kProtocolBase64, ""})
    p.push_back(name);
  return p;
}

std::vector<std::string> ExecSpdyVersions() {
  return {"v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"};
}

}  // namespace kproxy::sim::streaming
