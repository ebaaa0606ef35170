// Protocol negotiation for upgrade requests, as the Kubernetes servers do it. Pure functions
// over header values: no I/O.
//  - WebSocket (wsstream / x/net websocket): the FIRST Sec-WebSocket-Protocol line, split at
//    commas; the first offered protocol the server supports wins, in the client's order; none
//    offered means "" (channel.k8s.io semantics, no protocol echoed).
//  - SPDY (httpstream.Handshake): every X-Stream-Protocol-Version line; the first client
//    version the server accepts; none → 400, no overlap → 403 with the server's list.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace kproxy::sim::streaming {

// Splits the first Sec-WebSocket-Protocol line (x/net reads only that one) into trimmed,
// non-empty tokens.
std::vector<std::string> OfferedWebSocketProtocols(const std::vector<std::string>& header_lines);

// The protocol to echo ("" = none offered and "" supported), or nullopt when nothing matches.
std::optional<std::string> ChooseWebSocketProtocol(const std::vector<std::string>& offered,
                                                   const std::vector<std::string>& supported);

struct SpdyNegotiation {
  bool ok = false;
  std::string version;                // chosen, when ok
  int http_status = 0;                // 400 / 403 when not ok
  std::string body;                   // text/plain body, as Go's http.Error writes it (with "\n")
  std::vector<std::string> accepted;  // X-Accepted-Stream-Protocol-Versions on 403
};
SpdyNegotiation NegotiateSpdyVersion(const std::vector<std::string>& client_versions,
                                     const std::vector<std::string>& server_versions);

// What the simulated API server accepts for exec/attach.
// WebSocket: v5 (apiserver ≥ 1.30 stream translator, unless `allow_v5` is off) then what the
// kubelet's wsstream speaks.
std::vector<std::string> ExecWebSocketProtocols(bool allow_v5);
// SPDY: the kubelet's list (v5 is WebSocket-only: never chosen over SPDY).
std::vector<std::string> ExecSpdyVersions();

}  // namespace kproxy::sim::streaming
