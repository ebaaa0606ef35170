#include <doctest/doctest.h>

#include <chrono>
#include <optional>

#include "core/session/spdy_keepalive.h"
#include "core/transport/event_loop.h"

namespace kproxy {
namespace {

using std::chrono::milliseconds;

TEST_CASE("spdy keepalive: pings every interval while the peer answers; never declared dead") {
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  int pings = 0;
  std::optional<Status> dead;
  SpdyKeepalive* self = nullptr;
  SpdyKeepalive k(
      **loop, milliseconds(10), milliseconds(40),
      [&] {
        ++pings;
        self->OnPong();  // the peer answers at once
      },
      [&](Status s) { dead = s; });
  self = &k;
  k.Start();
  (*loop)->RunUntil([&] { return pings >= 8; }, milliseconds(2000));
  CHECK(pings >= 8);
  CHECK_FALSE(dead.has_value());
}

TEST_CASE("spdy keepalive: a silent peer is lost once, with the deadline in the message") {
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  int pings = 0, deaths = 0;
  std::optional<Status> dead;
  SpdyKeepalive k(
      **loop, milliseconds(10), milliseconds(1000), [&] { ++pings; },
      [&](Status s) {
        ++deaths;
        dead = s;
      });
  k.Start();
  (*loop)->RunUntil([&] { return dead.has_value(); }, milliseconds(3000));
  REQUIRE(dead.has_value());
  CHECK(deaths == 1);
  CHECK(pings >= 50);  // it kept pinging until the deadline passed
  REQUIRE_FALSE(dead->ok());
  CHECK(dead->error().code == ErrorCode::kUnavailable);
  CHECK(dead->error().message == "connection lost: no answer to keepalive pings for 1s");
  // Nothing more after the report.
  int after = pings;
  (*loop)->RunUntil([] { return false; }, milliseconds(50));
  CHECK(pings == after);
  CHECK(deaths == 1);
}

TEST_CASE("spdy keepalive: Stop() ends the pings; destroying it cancels the timer") {
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  int pings = 0;
  {
    SpdyKeepalive k(
        **loop, milliseconds(5), milliseconds(1000), [&] { ++pings; }, [](Status) {});
    k.Start();
    (*loop)->RunUntil([&] { return pings >= 2; }, milliseconds(2000));
    k.Stop();
    int stopped_at = pings;
    (*loop)->RunUntil([] { return false; }, milliseconds(40));
    CHECK(pings == stopped_at);
    k.Start();
    (*loop)->RunUntil([&] { return pings > stopped_at; }, milliseconds(2000));
    CHECK(pings > stopped_at);
  }
  int destroyed_at = pings;
  (*loop)->RunUntil([] { return false; }, milliseconds(40));
  CHECK(pings == destroyed_at);
}

}  // namespace
}  // namespace kproxy
