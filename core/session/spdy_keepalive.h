// SPDY PINGs every `interval` on the loop and the dead-peer deadline, for the two transports
// that run a client SpdySession: the SPDY upgrade (spdy_transport) and the port-forward tunnel
// inside a WebSocket (ws_tunnel_transport). A peer that answered no ping for `dead_peer` is
// reported once through `on_dead` with kUnavailable "connection lost: no answer to keepalive
// pings for Ns".
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "core/base/result.h"
#include "core/transport/event_loop.h"

namespace kproxy {

class SpdyKeepalive {
 public:
  // `send_ping`: queue a PING and flush it. `on_dead`: the session is lost (may destroy us).
  SpdyKeepalive(EventLoop& loop, std::chrono::milliseconds interval,
                std::chrono::milliseconds dead_peer, std::function<void()> send_ping,
                std::function<void(Status)> on_dead);
  ~SpdyKeepalive();
  SpdyKeepalive(const SpdyKeepalive&) = delete;
  SpdyKeepalive& operator=(const SpdyKeepalive&) = delete;

  void Start();   // arms the timer; the dead-peer clock starts now
  void OnPong();  // a PING reply arrived
  void Stop();    // no more pings (the session ended or is closing)

 private:
  void Schedule();

  EventLoop& loop_;
  std::chrono::milliseconds interval_, dead_peer_;
  std::function<void()> send_ping_;
  std::function<void(Status)> on_dead_;
  EventLoop::TimerId timer_ = 0;
  EventLoop::Clock::time_point last_pong_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace kproxy
