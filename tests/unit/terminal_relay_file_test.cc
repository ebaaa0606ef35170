// stdin and stdout redirected to regular files (`kproxy exec -i pod -- cmd < in > out`):
// epoll cannot watch regular files, so the relay must read and write them another way.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "core/terminal/relay.h"
#include "core/terminal/tty.h"
#include "core/transport/event_loop.h"
#include "tests/support/test_env.h"

namespace kproxy {
namespace {

using std::chrono::milliseconds;

TEST_CASE("relay: a regular file as stdin is read whole, with back-pressure, then EOF") {
  test::TempDir dir;
  std::string path = (dir.path() / "in").string();
  std::string data(300 * 1024, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(WriteFull(fd, data).ok());
    close(fd);
  }
  int in = open(path.c_str(), O_RDONLY);
  REQUIRE(in >= 0);
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  std::string got;
  bool eof = false;
  size_t transport_queue = 0;
  size_t max_queue = 0;
  RelayOptions o{in, -1, -1};
  o.high_water = 64 * 1024;
  Relay relay(
      **loop, o,
      RelayCallbacks{[&](std::string_view b) {
                       got.append(b);
                       transport_queue += b.size();
                       max_queue = std::max(max_queue, transport_queue);
                     },
                     [&] { eof = true; }, [&] { return transport_queue; }, nullptr, nullptr});
  relay.Start();
  // A slow transport: drains 16 KiB every millisecond.
  std::function<void()> drain = [&] {
    transport_queue = transport_queue > 16384 ? transport_queue - 16384 : 0;
    relay.ResumeCheck();
    if (!eof) (*loop)->AddTimer(milliseconds(1), drain);
  };
  (*loop)->AddTimer(milliseconds(1), drain);
  CHECK((*loop)->RunUntil([&] { return eof; }, milliseconds(5000)));
  CHECK(got == data);
  CHECK(max_queue <= o.high_water + o.read_chunk);
  close(in);
}

TEST_CASE("relay: a regular file as stdout and stderr is written through") {
  test::TempDir dir;
  std::string out_path = (dir.path() / "out").string(), err_path = (dir.path() / "err").string();
  int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(out >= 0);
  REQUIRE(err >= 0);
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  {
    Relay relay(**loop, RelayOptions{-1, out, err}, RelayCallbacks{});
    relay.WriteOut("before start\n");
    relay.Start();
    relay.WriteOut("hello\n");
    relay.WriteErr("oops\n");
    CHECK(relay.PendingOutput() == 0);
  }
  close(out);
  close(err);
  CHECK(test::ReadFileOrDie(out_path) == "before start\nhello\n");
  CHECK(test::ReadFileOrDie(err_path) == "oops\n");
}

}  // namespace
}  // namespace kproxy
