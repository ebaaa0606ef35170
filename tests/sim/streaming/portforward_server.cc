#include "tests/sim/streaming/portforward_server.h"

#include <algorithm>

#include "core/portforward/portforward_format.h"
#include "core/transport/http_request_parser.h"
#include "core/websocket/channel_codec.h"
#include "core/websocket/channel_format.h"
#include "tests/sim/api/status.h"
#include "tests/sim/streaming/negotiation.h"
#include "tests/sim/streaming/portforward_session.h"

namespace kproxy::sim::streaming {

namespace {

HttpResponse PlainError(int status, const std::string& body) {
  HttpResponse r;
  r.status = status;
  r.Header("Content-Type", "text/plain; charset=utf-8");
  r.Header("X-Content-Type-Options", "nosniff");
  r.body = body;
  r.close = true;
  return r;
}

PortForwardParams ParamsFor(const StreamingRequest& sr, const StreamingConfig& config) {
  PortForwardParams p;
  const Fixture* fixture = sr.fixture;
  Pod pod = *sr.pod;  // the session outlives the request; keep what it needs
  p.local_port = [fixture, pod](uint16_t port) { return fixture->LocalPortFor(pod, port); };
  p.pod_name = pod.name;
  p.pod_uid = pod.uid;
  p.stream_timeout = config.stream_timeout;
  p.dial_timeout = config.dial_timeout;
  return p;
}

}  // namespace

bool ParsePortsQuery(const std::vector<std::pair<std::string, std::string>>& query,
                     std::vector<uint16_t>* ports, std::string* error) {
  for (const auto& [k, v] : query) {
    if (k != "ports" && k != "port") continue;
    size_t start = 0;
    while (start <= v.size()) {
      size_t comma = v.find(',', start);
      if (comma == std::string::npos) comma = v.size();
      std::string token = v.substr(start, comma - start);
      start = comma + 1;
      bool digits =
          !token.empty() && token.size() <= 5 &&
          std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
      int n = digits ? std::stoi(token) : 0;
      if (n < 1 || n > 65535) {
        *error = "unable to parse \"" + token + "\" as a port: must be in the range 1-65535";
        return false;
      }
      ports->push_back(static_cast<uint16_t>(n));
    }
  }
  return true;
}

HttpResponse HandlePortForward(const StreamingRequest& sr, const StreamingConfig& config) {
  const HttpRequest& req = *sr.request;
  if (sr.pod->phase != "Running") {
    return StatusResponse(400, "BadRequest",
                          "pod " + sr.pod->name + " is not running (phase " + sr.pod->phase + ")");
  }
  PortForwardParams params = ParamsFor(sr, config);
  HttpResponse resp;
  if (!sr.websocket) {
    SpdyNegotiation n = NegotiateSpdyVersion(req.Headers("x-stream-protocol-version"),
                                             {portforward::kProtocolName});
    if (!n.ok) {
      HttpResponse r = PlainError(n.http_status, n.body);
      for (const std::string& v : n.accepted) r.Header("X-Accepted-Stream-Protocol-Versions", v);
      return r;
    }
    std::string version = n.version;
    resp.takeover = [version, params](Conn& conn, std::string already) {
      if (!conn.WriteAll(http::BuildSpdyAccept(version))) return;
      SpdyTransport transport;
      RunSpdyPortForward(conn, transport, already, params);
    };
    return resp;
  }

  std::string key = req.Header("sec-websocket-key");
  if (key.empty()) return PlainError(400, "Bad Request\n");
  std::vector<std::string> offered =
      OfferedWebSocketProtocols(req.Headers("sec-websocket-protocol"));
  bool wants_tunnel = std::find(offered.begin(), offered.end(), kTunnelProtocol) != offered.end();
  std::vector<uint16_t> ports;
  std::string error;
  if (!ParsePortsQuery(req.query, &ports, &error)) return PlainError(400, error + "\n");

  if (wants_tunnel && !sr.faults->no_v5) {
    resp.takeover = [key, params](Conn& conn, std::string already) {
      if (!conn.WriteAll(http::BuildWebSocketAccept(key, kTunnelProtocol))) return;
      WsTunnelTransport transport;
      RunSpdyPortForward(conn, transport, already, params);
    };
    return resp;
  }
  // Legacy channels: what a pre-1.30 API server proxies to the kubelet, whose first check is
  // the port list (so a tunnel request without ?ports= gets this 400 there).
  if (ports.empty()) return PlainError(400, "query parameter \"port\" is required\n");
  std::vector<std::string> supported = {ws::kProtocolV4, ws::kProtocolV4Base64, ws::kProtocolV1,
                                        ws::kProtocolBase64, ""};
  std::optional<std::string> chosen = ChooseWebSocketProtocol(offered, supported);
  if (!chosen) {
    HttpResponse r;  // x/net websocket: a bare 403 when no subprotocol matches
    r.status = 403;
    r.close = true;
    return r;
  }
  auto protocol = ws::ParseChannelProtocol(chosen->empty() ? ws::kProtocolV1 : chosen->c_str());
  if (!protocol.ok()) return PlainError(500, "unsupported protocol\n");
  ws::ChannelProtocol cp = *protocol;
  std::string proto = *chosen;
  resp.takeover = [key, proto, cp, ports, params](Conn& conn, std::string already) {
    if (!conn.WriteAll(http::BuildWebSocketAccept(key, proto))) return;
    WsMessageTransport transport(cp);
    RunLegacyWsPortForward(conn, transport, already, ports, params);
  };
  return resp;
}

}  // namespace kproxy::sim::streaming
