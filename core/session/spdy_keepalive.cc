#include "core/session/spdy_keepalive.h"

#include <string>
#include <utility>

namespace kproxy {

SpdyKeepalive::SpdyKeepalive(EventLoop& loop, std::chrono::milliseconds interval,
                             std::chrono::milliseconds dead_peer, std::function<void()> send_ping,
                             std::function<void(Status)> on_dead)
    : loop_(loop),
      interval_(interval),
      dead_peer_(dead_peer),
      send_ping_(std::move(send_ping)),
      on_dead_(std::move(on_dead)),
      last_pong_(loop.Now()) {}

SpdyKeepalive::~SpdyKeepalive() {
  *alive_ = false;
  Stop();
}

void SpdyKeepalive::Start() {
  last_pong_ = loop_.Now();
  Stop();
  Schedule();
}

void SpdyKeepalive::OnPong() { last_pong_ = loop_.Now(); }

void SpdyKeepalive::Stop() {
  if (timer_) loop_.CancelTimer(timer_);
  timer_ = 0;
}

void SpdyKeepalive::Schedule() {
  auto alive = alive_;
  timer_ = loop_.AddTimer(interval_, [this, alive] {
    if (!*alive) return;
    timer_ = 0;
    if (loop_.Now() - last_pong_ > dead_peer_) {
      on_dead_(
          MakeError(ErrorCode::kUnavailable, "connection lost: no answer to keepalive pings for " +
                                                 std::to_string(dead_peer_.count() / 1000) + "s"));
      return;
    }
    send_ping_();
    Schedule();
  });
}

}  // namespace kproxy
