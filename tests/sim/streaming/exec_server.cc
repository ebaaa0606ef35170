#include "tests/sim/streaming/exec_server.h"

#include <chrono>
#include <thread>

#include "core/remotecommand/protocol_version.h"
#include "core/remotecommand/stream_options.h"
#include "core/transport/http_request_parser.h"
#include "core/websocket/channel_codec.h"
#include "core/websocket/channel_format.h"
#include "tests/sim/api/status.h"
#include "tests/sim/streaming/exec_session.h"
#include "tests/sim/streaming/negotiation.h"

namespace kproxy::sim::streaming {

namespace {

using remotecommand::ProtocolVersion;

HttpResponse BadRequest(const std::string& message) {
  return StatusResponse(400, "BadRequest", message);
}

// Go's http.Error: text/plain, nosniff, the message plus "\n".
HttpResponse PlainError(int status, const std::string& body,
                        const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  HttpResponse r;
  r.status = status;
  r.Header("Content-Type", "text/plain; charset=utf-8");
  r.Header("X-Content-Type-Options", "nosniff");
  for (const auto& [k, v] : extra) r.Header(k, v);
  r.body = body;
  r.close = true;
  return r;
}

ProtocolVersion VersionOfChannelProtocol(ws::ChannelProtocol p) {
  switch (p) {
    case ws::ChannelProtocol::kV5:
      return ProtocolVersion::kV5;
    case ws::ChannelProtocol::kV4:
    case ws::ChannelProtocol::kV4Base64:
      return ProtocolVersion::kV4;
    default:
      return ProtocolVersion::kV1;
  }
}

// Reads and drops what the client still sends, until it closes (bounded): used after a 101
// that the client will reject (no-v5 emulation).
void DrainUntilClose(Conn& conn, int max_ms) {
  char buf[4096];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(max_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    ssize_t n = conn.Read(buf, sizeof buf, 100);
    if (n == 0 || n == -1) return;
  }
}

}  // namespace

const Container* ResolveContainer(const Pod& pod, const std::string& name, HttpResponse* error) {
  if (name.empty()) {
    if (pod.containers.size() == 1) return &pod.containers.front();
    std::string names;
    for (const Container& c : pod.containers) names += (names.empty() ? "" : " ") + c.name;
    *error = BadRequest("a container name must be specified for pod " + pod.name +
                        ", choose one of: [" + names + "]");
    return nullptr;
  }
  for (const Container& c : pod.containers)
    if (c.name == name) return &c;
  *error = BadRequest("container " + name + " is not valid for pod " + pod.name);
  return nullptr;
}

HttpResponse HandleRemoteCommand(const StreamingRequest& sr, AttachHub* hub,
                                 const StreamingConfig& config) {
  const HttpRequest& req = *sr.request;
  const Pod& pod = *sr.pod;
  bool attach = sr.subresource == "attach";

  auto options = remotecommand::StreamOptionsFromQuery(req.query);
  if (!options.ok()) return BadRequest(options.error().message);
  if (pod.phase == "Succeeded" || pod.phase == "Failed") {
    return BadRequest(std::string("cannot ") + (attach ? "attach to" : "exec into") +
                      " a container in a completed pod; current phase is " + pod.phase);
  }
  HttpResponse error;
  const Container* container = ResolveContainer(pod, req.Query("container"), &error);
  if (!container) return error;

  ExecParams params;
  params.options = *options;
  params.stream_timeout = config.stream_timeout;
  params.spec.working_dir = config.work_dir;
  params.spec.env = config.env;
  params.spec.env["HOSTNAME"] = pod.name;
  params.spec.env["POD_NAME"] = pod.name;
  params.spec.env["POD_NAMESPACE"] = pod.namespace_;
  params.spec.env["CONTAINER_NAME"] = container->name;
  if (attach) {
    // The container's main process: its command, under a pty when the container has one.
    params.spec.argv = container->command.empty()
                           ? std::vector<std::string>{"sh", "-c", "sleep 3600"}
                           : container->command;
    params.spec.tty = container->tty;
  } else {
    for (const auto& [k, v] : req.query)
      if (k == "command") params.spec.argv.push_back(v);
    if (params.spec.argv.empty()) {
      return BadRequest("you must specify at least one command for the container");
    }
    params.spec.tty = options->tty;
  }
  std::string attach_key = pod.namespace_ + "/" + pod.name + "/" + container->name;

  HttpResponse resp;
  if (sr.websocket) {
    std::string key = req.Header("sec-websocket-key");
    if (key.empty()) return PlainError(400, "Bad Request\n");
    std::vector<std::string> offered =
        OfferedWebSocketProtocols(req.Headers("sec-websocket-protocol"));
    std::optional<std::string> chosen =
        ChooseWebSocketProtocol(offered, ExecWebSocketProtocols(!sr.faults->no_v5));
    if (!chosen) {
      if (sr.faults->no_v5) {
        // A pre-1.30 server as kubectl ≥ 1.30 meets it: the upgrade succeeds without the v5
        // subprotocol, and the client (which offered only v5) falls back to SPDY.
        resp.takeover = [key](Conn& conn, std::string) {
          if (conn.WriteAll(http::BuildWebSocketAccept(key, ""))) DrainUntilClose(conn, 5000);
        };
        return resp;
      }
      // x/net websocket answers a failed subprotocol handshake with a bare 403.
      HttpResponse r;
      r.status = 403;
      r.close = true;
      return r;
    }
    auto channel_protocol =
        ws::ParseChannelProtocol(chosen->empty() ? ws::kProtocolV1 : chosen->c_str());
    if (!channel_protocol.ok()) return PlainError(500, "unsupported protocol\n");
    params.websocket = true;
    params.version = VersionOfChannelProtocol(*channel_protocol);
    ws::ChannelProtocol cp = *channel_protocol;
    std::string proto = *chosen;
    resp.takeover = [key, proto, cp, params, attach, attach_key, hub](Conn& conn,
                                                                      std::string already) mutable {
      if (attach) {
        auto target = hub->Get(attach_key, params.spec);
        if (!target.ok()) return;
        params.attach = *target;
      }
      if (!conn.WriteAll(http::BuildWebSocketAccept(key, proto))) return;
      WsChannelTransport transport(cp);
      RunExecSession(conn, transport, already, std::move(params));
    };
    return resp;
  }

  SpdyNegotiation n =
      NegotiateSpdyVersion(req.Headers("x-stream-protocol-version"), ExecSpdyVersions());
  if (!n.ok) {
    std::vector<std::pair<std::string, std::string>> extra;
    for (const std::string& v : n.accepted)
      extra.emplace_back("X-Accepted-Stream-Protocol-Versions", v);
    return PlainError(n.http_status, n.body, extra);
  }
  auto version = remotecommand::ParseProtocolName(n.version);
  if (!version.ok()) return PlainError(500, "unsupported protocol\n");
  params.version = version->version;
  std::string chosen = n.version;
  resp.takeover = [chosen, params, attach, attach_key, hub](Conn& conn,
                                                            std::string already) mutable {
    if (attach) {
      auto target = hub->Get(attach_key, params.spec);
      if (!target.ok()) return;
      params.attach = *target;
    }
    if (!conn.WriteAll(http::BuildSpdyAccept(chosen))) return;
    SpdyTransport transport;
    RunExecSession(conn, transport, already, std::move(params));
  };
  return resp;
}

}  // namespace kproxy::sim::streaming
