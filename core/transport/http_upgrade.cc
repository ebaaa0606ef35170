#include "core/transport/http_upgrade.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>

#include "core/base/build_info.h"

namespace kproxy::http {
namespace {

std::string Base64(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  const int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  return out;
}

bool SafeHeaderValue(std::string_view v) {
  return v.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool SafeHeaderName(std::string_view n) {
  if (n.empty()) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    const unsigned char u = static_cast<unsigned char>(c);
    return std::isalnum(u) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

Status CheckParams(const UpgradeRequestParams& p) {
  if (p.protocols.empty()) return MakeError(ErrorCode::kUsage, "no protocol offered");
  if (!SafeHeaderValue(p.host) || !SafeHeaderValue(p.user_agent) ||
      p.target.find_first_of(" \r\n") != std::string::npos || p.target.empty())
    return MakeError(ErrorCode::kUsage, "invalid host, user agent or target");
  if (p.user_agent.find("kubernetes/") == std::string::npos)
    return MakeError(ErrorCode::kUsage, "user agent must contain \"kubernetes/\"");
  for (const auto& v : p.protocols)
    if (!SafeHeaderValue(v)) return MakeError(ErrorCode::kUsage, "invalid protocol name");
  for (const auto& [k, v] : p.extra_headers)
    if (!SafeHeaderName(k) || !SafeHeaderValue(v))
      return MakeError(ErrorCode::kUsage, "invalid header \"" + k + "\"");
  return Status::Ok();
}

void AppendCommon(const UpgradeRequestParams& p, std::string* out) {
  *out += "Host: " + p.host + "\r\n";
  *out += "User-Agent: " + p.user_agent + "\r\n";
  *out += std::string("Accept: ") + kAcceptHeaderValue + "\r\n";
  for (const auto& [k, v] : p.extra_headers) *out += k + ": " + v + "\r\n";
}

Status CheckSwitching(const HttpResponse& r, std::string_view upgrade) {
  if (r.status != 101)
    return MakeError(ErrorCode::kUpgradeRejected,
                     "upgrade refused: HTTP " + std::to_string(r.status) + " " + r.reason);
  if (!r.headers.HasToken("Upgrade", upgrade))
    return MakeError(ErrorCode::kUpgradeRejected,
                     "101 without \"Upgrade: " + std::string(upgrade) + "\"");
  if (!r.headers.HasToken("Connection", "upgrade"))
    return MakeError(ErrorCode::kUpgradeRejected, "101 without \"Connection: Upgrade\"");
  return Status::Ok();
}

}  // namespace

std::string QueryEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

std::string BuildExecQuery(const ExecQuery& q) {
  std::vector<std::string> parts;
  for (const auto& c : q.command) parts.push_back("command=" + QueryEscape(c));
  if (!q.container.empty()) parts.push_back("container=" + QueryEscape(q.container));
  if (q.use_stderr) parts.push_back("stderr=true");
  if (q.use_stdin) parts.push_back("stdin=true");
  if (q.use_stdout) parts.push_back("stdout=true");
  if (q.tty) parts.push_back("tty=true");
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "&" : "") + parts[i];
  return out;
}

std::string DefaultUserAgent(std::string_view version, std::string_view commit) {
  return "kproxy/" + std::string(version) + " (" + Platform() + ") kubernetes/" +
         std::string(commit);
}

std::string WebSocketKeyFromBytes(const std::array<uint8_t, 16>& random_bytes) {
  return Base64(random_bytes.data(), random_bytes.size());
}

std::string WebSocketAcceptFor(std::string_view key) {
  const std::string input = std::string(key) + kWebSocketGuid;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return Base64(digest, sizeof digest);
}

Result<std::string> BuildWebSocketUpgradeRequest(const UpgradeRequestParams& p,
                                                 std::string_view websocket_key) {
  if (Status s = CheckParams(p); !s.ok()) return s.error();
  if (!SafeHeaderValue(websocket_key) || websocket_key.empty())
    return MakeError(ErrorCode::kUsage, "invalid Sec-WebSocket-Key");
  std::string out = "GET " + p.target + " HTTP/1.1\r\n";
  AppendCommon(p, &out);
  out += "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n";
  out += "Sec-WebSocket-Key: " + std::string(websocket_key) + "\r\n";
  // ONE line: servers built on Go's x/net/websocket read only the first occurrence.
  out += "Sec-WebSocket-Protocol: ";
  for (size_t i = 0; i < p.protocols.size(); ++i) out += (i ? ", " : "") + p.protocols[i];
  out += "\r\n\r\n";
  return out;
}

Result<std::string> BuildSpdyUpgradeRequest(const UpgradeRequestParams& p) {
  if (Status s = CheckParams(p); !s.ok()) return s.error();
  std::string out = "POST " + p.target + " HTTP/1.1\r\n";
  AppendCommon(p, &out);
  out += "Content-Length: 0\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n";
  // One line per version, as client-go's SPDY round tripper adds them.
  for (const auto& v : p.protocols) out += "X-Stream-Protocol-Version: " + v + "\r\n";
  out += "\r\n";
  return out;
}

Result<std::string> ValidateWebSocketUpgrade(const HttpResponse& r, std::string_view key,
                                             const std::vector<std::string>& offered) {
  if (Status s = CheckSwitching(r, "websocket"); !s.ok()) return s.error();
  if (r.headers.Get("Sec-WebSocket-Accept") != WebSocketAcceptFor(key))
    return MakeError(ErrorCode::kUpgradeRejected, "101 with a wrong Sec-WebSocket-Accept");
  const std::string chosen = r.headers.Get("Sec-WebSocket-Protocol");
  if (chosen.empty()) return MakeError(ErrorCode::kUpgradeRejected, "101 without a subprotocol");
  if (std::find(offered.begin(), offered.end(), chosen) == offered.end())
    return MakeError(ErrorCode::kUpgradeRejected, "101 chose unoffered subprotocol " + chosen);
  return chosen;
}

Result<std::string> ValidateSpdyUpgrade(const HttpResponse& r,
                                        const std::vector<std::string>& offered) {
  if (Status s = CheckSwitching(r, "SPDY/3.1"); !s.ok()) return s.error();
  std::string chosen = r.headers.Get("X-Stream-Protocol-Version");
  // client-go: a server that predates version negotiation speaks v1.
  if (chosen.empty()) chosen = "channel.k8s.io";
  if (std::find(offered.begin(), offered.end(), chosen) == offered.end())
    return MakeError(ErrorCode::kUpgradeRejected, "101 chose unoffered version " + chosen);
  return chosen;
}

}  // namespace kproxy::http
