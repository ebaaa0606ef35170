#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "core/terminal/relay.h"
#include "core/terminal/tty.h"
#include "core/transport/event_loop.h"

namespace kproxy {
namespace {

using std::chrono::milliseconds;

struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int p[2];
    if (pipe2(p, O_CLOEXEC) == 0) {
      r = p[0];
      w = p[1];
    }
  }
  ~Pipe() {
    if (r >= 0) close(r);
    if (w >= 0) close(w);
  }
};

TEST_CASE("relay: stdin bytes reach the transport, EOF is reported") {
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  Pipe in;
  std::string got;
  bool eof = false;
  Relay relay(**loop, RelayOptions{in.r, -1, -1},
              RelayCallbacks{[&](std::string_view b) { got.append(b); }, [&] { eof = true; },
                             nullptr, nullptr, nullptr});
  relay.Start();
  REQUIRE(WriteFull(in.w,
                    "abc\x03"
                    "def")
              .ok());
  close(in.w);
  in.w = -1;
  CHECK((*loop)->RunUntil([&] { return eof; }, milliseconds(2000)));
  CHECK(got ==
        "abc\x03"
        "def");
  CHECK(relay.InputEnded());
}

TEST_CASE("relay: stdin pauses above the transport high-water mark and resumes below") {
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  Pipe in;
  size_t transport_queue = 0;
  std::string got;
  RelayOptions opts{in.r, -1, -1};
  opts.high_water = 10;
  opts.read_chunk = 8;
  Relay relay(**loop, opts,
              RelayCallbacks{[&](std::string_view b) {
                               got.append(b);
                               transport_queue += b.size();
                             },
                             nullptr, [&] { return transport_queue; }, nullptr, nullptr});
  relay.Start();
  REQUIRE(WriteFull(in.w, std::string(40, 'x')).ok());
  // Reads 8 + 8 = 16 > 10, then must stop although 24 bytes are still readable.
  CHECK((*loop)->RunUntil([&] { return relay.InputPaused(); }, milliseconds(2000)));
  (*loop)->RunUntil([] { return false; }, milliseconds(50));
  CHECK(got.size() == 16);
  transport_queue = 0;  // the transport drained
  relay.ResumeCheck();
  CHECK_FALSE(relay.InputPaused());
  // Two more chunks fill the queue past the mark again.
  CHECK((*loop)->RunUntil([&] { return relay.InputPaused(); }, milliseconds(2000)));
  CHECK(got.size() == 32);
  transport_queue = 0;
  relay.ResumeCheck();
  CHECK((*loop)->RunUntil([&] { return got.size() == 40; }, milliseconds(2000)));
}

TEST_CASE("relay: output is fully written in order; a blocked stdout reports back-pressure") {
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  Pipe out, err;
  int drained = 0;
  RelayOptions opts{-1, out.w, err.w};
  opts.high_water = 1024;
  Relay relay(**loop, opts, RelayCallbacks{nullptr, nullptr, nullptr, [&] { ++drained; }, nullptr});
  relay.Start();
  // More than a pipe holds (64 KiB): nobody reads yet, so output stays queued.
  std::string big;
  for (int i = 0; i < 200000; ++i) big.push_back(static_cast<char>('a' + i % 26));
  relay.WriteOut(big);
  relay.WriteErr("to stderr\n");
  (*loop)->RunUntil([] { return false; }, milliseconds(100));
  CHECK(relay.OutputBlocked());
  std::string read_back;
  SetNonBlocking(out.r, true);
  auto reader = (*loop)->Watch(out.r, true, false, [&](IoEvents) {
    char buf[8192];
    ssize_t n = read(out.r, buf, sizeof buf);
    if (n > 0) read_back.append(buf, n);
  });
  CHECK((*loop)->RunUntil([&] { return read_back.size() == big.size(); }, milliseconds(5000)));
  CHECK(read_back == big);
  CHECK(drained == 1);
  CHECK_FALSE(relay.OutputBlocked());
  char ebuf[64];
  ssize_t n = read(err.r, ebuf, sizeof ebuf);
  CHECK(std::string(ebuf, n > 0 ? n : 0) == "to stderr\n");
  (*loop)->Unwatch(reader);
}

TEST_CASE("relay: a closed stdout is reported once, not retried") {
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  Pipe out;
  close(out.r);
  out.r = -1;
  int errors = 0;
  Relay relay(**loop, RelayOptions{-1, out.w, -1},
              RelayCallbacks{nullptr, nullptr, nullptr, nullptr, [&](Error e) {
                               ++errors;
                               CHECK(e.code == ErrorCode::kUnavailable);
                             }});
  relay.Start();
  relay.WriteOut("lost");
  CHECK((*loop)->RunUntil([&] { return errors == 1; }, milliseconds(2000)));
  relay.WriteOut("more");
  (*loop)->RunUntil([] { return false; }, milliseconds(30));
  CHECK(errors == 1);
}

TEST_CASE("tty: WriteFull completes through a non-blocking pipe with a slow reader") {
  Pipe p;
  SetNonBlocking(p.w, true);
  std::string big(300000, 'z');
  std::string got;
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(p.w);
    char buf[4096];
    size_t total = 0;
    ssize_t n;
    while ((n = read(p.r, buf, sizeof buf)) > 0) {
      total += n;
      usleep(200);
    }
    _exit(total == 300000 ? 0 : 1);
  }
  close(p.r);
  p.r = -1;
  CHECK(WriteFull(p.w, big).ok());
  close(p.w);
  p.w = -1;
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace kproxy
