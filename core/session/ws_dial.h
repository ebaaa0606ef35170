// The WebSocket dial shared by the channel transport (ws_transport.cc), the port-forward tunnel
// (ws_tunnel_transport.cc) and, for its client options, the legacy port-forward
// (portforward_legacy_ws.cc): UpgradeTarget → WsClientOptions, the client's callbacks routed to
// whichever transport owns it, and a failed attempt turned into an AttemptFailure.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/session/stream_transport.h"
#include "core/transport/ws_client.h"

namespace kproxy {

// Consumes `target` (server, TLS, proxy, path, headers, keepalive) and the subprotocols to offer;
// returns the options for WsClient::Connect, with a User-Agent header and the refusal reader.
WsClientOptions WsClientOptionsFor(const UpgradeTarget& target,
                                   std::vector<std::string> subprotocols);

// What a transport built on a WsClient receives from it after the dial handed it over.
class WsClientSink {
 public:
  virtual ~WsClientSink() = default;
  virtual void OnMessage(std::string_view message, bool binary) = 0;
  virtual void OnClosed(Status status) = 0;
  virtual void OnDrained() = 0;
};

// Where the client's callbacks go. The transport attaches itself when built and detaches in
// its destructor, so callbacks lws still makes for a dying connection are dropped.
class WsSinkSlot {
 public:
  void Attach(WsClientSink* sink) { sink_ = sink; }
  void Detach() { sink_ = nullptr; }
  WsClientSink* sink() const { return sink_; }

 private:
  WsClientSink* sink_ = nullptr;
};

struct WsDialSpec {
  std::vector<std::string> subprotocols;
  std::chrono::milliseconds ping_interval{5000};
  std::chrono::milliseconds pong_timeout{60000};
  std::string what = "WebSocket upgrade";  // for the log line on success
  bool byte_stream = false;                // WsClientOptions::byte_stream (the tunnel)
  // Builds the transport for the accepted `subprotocol`: takes `client` (moving it out) and
  // attaches to `slot`. Returns nullptr, leaving `client` alone, when it does not speak the
  // subprotocol (reported as a handshake failure: "the server chose an unknown subprotocol").
  std::function<std::unique_ptr<StreamTransport>(const std::string& subprotocol,
                                                 std::unique_ptr<WsClient>& client,
                                                 std::shared_ptr<WsSinkSlot> slot)>
      make;
};

// Dials `target` with `spec`; `done` runs once on the loop with the transport or the failure
// (dial, proxy dial, or handshake with the classified refusal).
std::unique_ptr<PendingDial> DialWsClient(EventLoop& loop, const UpgradeTarget& target,
                                          WsDialSpec spec, const RefusalContext& context,
                                          DialDone done);

}  // namespace kproxy
