// One port-forward session: dials the tunnel (WebSocket "SPDY/3.1+portforward.k8s.io") or
// SPDY with the classified fallback and protocol memory (kind "portforward"), then listens
// locally and forwards every accepted connection over that one connection. Unlike kubectl, an
// error on one connection closes only that connection, and a dropped tunnel is re-dialled with
// backoff while the listeners stay open. SIGINT/SIGTERM end the session cleanly.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/diagnose/refusal.h"
#include "core/negotiate/fallback_policy.h"
#include "core/negotiate/protocol_memory.h"
#include "core/portforward/forwarder_ports.h"
#include "core/portforward/listener.h"
#include "core/session/stream_transport.h"
#include "core/transport/event_loop.h"

namespace kproxy {

struct PortForwardSessionOptions {
  UpgradeTarget target;  // path_and_query: /api/v1/namespaces/NS/pods/POD/portforward
  std::vector<portforward::ForwardedPort> ports;
  std::vector<portforward::ListenAddress> addresses;
  std::vector<StreamProtocol> order;  // kWebSocket = the tunnel; from PlanProtocols
  std::string plan_reason;
  RefusalContext context;
  ProtocolMemory* memory = nullptr;
  std::string memory_server;
  std::function<int64_t()> now_seconds;
  std::function<Result<std::vector<std::pair<std::string, std::string>>>()> reauthenticate;
  // Reconnect backoff after the tunnel dropped: doubles from `reconnect_initial` up to
  // `reconnect_max`. 0 attempts = never give up while the failures are network errors.
  std::chrono::milliseconds reconnect_initial{500};
  std::chrono::milliseconds reconnect_max{10000};
  // When both upgrades are refused, forward with one legacy WebSocket (v4.channel.k8s.io,
  // ?ports=) per connection.
  bool legacy_websocket_fallback = true;
  bool handle_signals = true;  // SIGINT/SIGTERM end the session (exit 0)
  // Test hooks: called once the listeners are up with the bound local ports (in `ports`
  // order) and a function that ends the session; called on each (re)connection.
  std::function<void(const std::vector<uint16_t>&, std::function<void()> stop)> on_listening;
  std::function<void(const std::string& protocol)> on_connected;
};

// Runs until a signal, `stop`, or an unrecoverable failure. Normal output (kubectl's
// "Forwarding from ..." and "Handling connection for ..." lines) goes to `out`, errors and
// reconnection notices to `diag`. Ok on a clean stop; an Error (already printed) otherwise.
Status RunPortForwardSession(EventLoop& loop, PortForwardSessionOptions options, std::ostream& out,
                             std::ostream& diag);

}  // namespace kproxy
