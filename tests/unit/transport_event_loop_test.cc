#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/transport/event_loop.h"

namespace kproxy {
namespace {

using std::chrono::milliseconds;

TEST_CASE("event loop: fd readability, write interest and unwatch") {
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  int p[2];
  REQUIRE(pipe2(p, O_NONBLOCK) == 0);
  std::string got;
  bool eof = false;
  EventLoop::WatchId rid = (*loop)->Watch(p[0], true, false, [&](IoEvents ev) {
    char buf[16];
    ssize_t n = read(p[0], buf, sizeof buf);
    if (n > 0) got.append(buf, n);
    if (n == 0 || (ev.hangup && n <= 0)) eof = true;
  });
  REQUIRE(rid != 0);
  int writable_calls = 0;
  EventLoop::WatchId wid = 0;
  wid = (*loop)->Watch(p[1], false, true, [&](IoEvents ev) {
    CHECK(ev.writable);
    ++writable_calls;
    REQUIRE(write(p[1], "hello", 5) == 5);
    (*loop)->SetInterest(wid, false, false);  // one write only
  });
  CHECK((*loop)->RunUntil([&] { return got == "hello"; }, milliseconds(2000)));
  CHECK(writable_calls == 1);
  (*loop)->Unwatch(wid);
  close(p[1]);
  CHECK((*loop)->RunUntil([&] { return eof; }, milliseconds(2000)));
  (*loop)->Unwatch(rid);
  close(p[0]);
}

TEST_CASE("event loop: the same fd may be watched twice (tty stdin == stdout)") {
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  int p[2];
  REQUIRE(pipe2(p, O_NONBLOCK) == 0);
  int a = 0, b = 0;
  auto w1 = (*loop)->Watch(p[1], false, true, [&](IoEvents) { ++a; });
  auto w2 = (*loop)->Watch(p[1], false, true, [&](IoEvents) { ++b; });
  CHECK(w1 != 0);
  CHECK(w2 != 0);
  CHECK((*loop)->RunUntil([&] { return a > 0 && b > 0; }, milliseconds(2000)));
  (*loop)->Unwatch(w1);
  (*loop)->Unwatch(w2);
  close(p[0]);
  close(p[1]);
}

TEST_CASE("event loop: timers fire in order, cancelled timers never fire") {
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  std::vector<int> order;
  auto start = EventLoop::Clock::now();
  (*loop)->AddTimer(milliseconds(60), [&] { order.push_back(3); });
  (*loop)->AddTimer(milliseconds(20), [&] { order.push_back(2); });
  auto cancelled = (*loop)->AddTimer(milliseconds(40), [&] { order.push_back(99); });
  (*loop)->Post([&] { order.push_back(1); });
  (*loop)->CancelTimer(cancelled);
  CHECK((*loop)->RunUntil([&] { return order.size() == 3; }, milliseconds(2000)));
  CHECK(order == std::vector<int>{1, 2, 3});
  CHECK(EventLoop::Clock::now() - start >= milliseconds(60));
}

TEST_CASE("event loop: RunUntil gives up at its timeout") {
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  auto start = EventLoop::Clock::now();
  CHECK_FALSE((*loop)->RunUntil([] { return false; }, milliseconds(50)));
  auto took = EventLoop::Clock::now() - start;
  CHECK(took >= milliseconds(50));
  CHECK(took < milliseconds(1500));
}

TEST_CASE("event loop: Stop from a callback ends Run") {
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  (*loop)->AddTimer(milliseconds(10), [&] { (*loop)->Stop(); });
  (*loop)->Run();
  CHECK(true);  // reaching here is the assertion; a hang fails the suite's timeout
}

TEST_CASE("event loop: signals arrive through the self-pipe and run on the loop") {
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  std::vector<int> seen;
  REQUIRE((*loop)->WatchSignal(SIGUSR1, [&](int s) { seen.push_back(s); }).ok());
  REQUIRE((*loop)->WatchSignal(SIGUSR2, [&](int s) { seen.push_back(s); }).ok());
  raise(SIGUSR1);
  raise(SIGUSR2);
  CHECK(seen.empty());  // handlers only record; the loop acts
  CHECK((*loop)->RunUntil([&] { return seen.size() == 2; }, milliseconds(2000)));
  CHECK(seen == std::vector<int>{SIGUSR1, SIGUSR2});
  (*loop)->UnwatchSignal(SIGUSR1);
  (*loop)->UnwatchSignal(SIGUSR2);
  struct sigaction now {};
  sigaction(SIGUSR1, nullptr, &now);
  CHECK((now.sa_handler == SIG_DFL));
}

TEST_CASE("event loop: only one per process") {
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  auto second = EventLoop::Create();
  CHECK_FALSE(second.ok());
}

}  // namespace
}  // namespace kproxy
