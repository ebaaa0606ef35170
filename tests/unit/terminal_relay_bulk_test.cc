// Relay output in large writes on blocking descriptors: a pipe (pwritev2 RWF_NOWAIT) and a
// socket (MSG_DONTWAIT) must take more than PIPE_BUF per write, yet the loop must never block
// on a full, blocking stdout whose reader is gone for a while.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "core/terminal/relay.h"
#include "core/transport/event_loop.h"

namespace kproxy {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

struct Fds {
  int r = -1, w = -1;
  ~Fds() {
    if (r >= 0) close(r);
    if (w >= 0) close(w);
  }
};

// Blocking (no O_NONBLOCK) on both ends, as an inherited stdout is.
Fds MakePipe() {
  Fds f;
  int p[2];
  if (pipe2(p, O_CLOEXEC) == 0) f.r = p[0], f.w = p[1];
  return f;
}
Fds MakeSocketPair() {
  Fds f;
  int p[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) == 0) f.r = p[0], f.w = p[1];
  return f;
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return s;
}

// Queues 4 MiB for `fds.w` while nobody reads; the loop must keep turning. Then a reader
// thread drains everything, which must arrive complete and in order.
void CheckNeverBlocks(Fds& fds) {
  REQUIRE(fds.w >= 0);
  REQUIRE((fcntl(fds.w, F_GETFL) & O_NONBLOCK) == 0);
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  int drained = 0;
  RelayOptions opts{-1, fds.w, -1};
  opts.high_water = 256 * 1024;
  Relay relay(**loop, opts, RelayCallbacks{nullptr, nullptr, nullptr, [&] { ++drained; }, nullptr});
  relay.Start();
  std::string big = Pattern(4 << 20);
  // A watchdog unblocks a wrongly blocking write after 3 s so the test fails instead of hanging.
  std::atomic<bool> start_reading{false};
  std::string got;
  std::thread reader([&] {
    auto deadline = Clock::now() + milliseconds(3000);
    while (!start_reading && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(5));
    char buf[65536];
    while (got.size() < big.size()) {
      ssize_t n = read(fds.r, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
  });
  auto t0 = Clock::now();
  for (size_t off = 0; off < big.size(); off += 64 * 1024)
    relay.WriteOut(std::string_view(big).substr(off, 64 * 1024));
  (*loop)->RunUntil([] { return false; }, milliseconds(100));
  auto stalled = std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count();
  CHECK(stalled < 1500);  // the loop did not block on the full fd
  CHECK(relay.OutputBlocked());
  int queued = 0;
  ioctl(fds.r, FIONREAD, &queued);
  CHECK(queued > 4096);  // more than one PIPE_BUF went in while blocked
  start_reading = true;
  CHECK((*loop)->RunUntil([&] { return relay.PendingOutput() == 0; }, milliseconds(10000)));
  reader.join();
  CHECK(got.size() == big.size());
  CHECK(got == big);
  CHECK(drained == 1);
}

}  // namespace

TEST_CASE("relay: a blocking pipe stdout is written in large chunks without blocking the loop") {
  Fds fds = MakePipe();
  CheckNeverBlocks(fds);
}

TEST_CASE("relay: a blocking socket stdout is written without blocking the loop") {
  Fds fds = MakeSocketPair();
  CheckNeverBlocks(fds);
}

TEST_CASE("relay: a closed pipe reader is an output error, also for the direct first write") {
  Fds fds = MakePipe();
  close(fds.r);
  fds.r = -1;
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  int errors = 0;
  Relay relay(**loop, RelayOptions{-1, fds.w, -1},
              RelayCallbacks{nullptr, nullptr, nullptr, nullptr, [&](Error) { ++errors; }});
  relay.Start();
  relay.WriteOut(Pattern(100000));
  CHECK((*loop)->RunUntil([&] { return errors == 1; }, milliseconds(2000)));
  relay.WriteOut("more");
  (*loop)->RunUntil([] { return false; }, milliseconds(30));
  CHECK(errors == 1);
}

}  // namespace kproxy
