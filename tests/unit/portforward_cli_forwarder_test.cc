// The forwarder between local sockets and port-forward stream pairs, on a real event loop with
// socketpairs for the local side and a fake StreamConnection playing the server.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "core/portforward/forwarder.h"
#include "core/portforward/stream_pairing_client.h"
#include "tests/support/fake_stream_connection.h"

namespace kproxy::portforward {
namespace {

using std::chrono::milliseconds;
using test::FakeStreamConnection;

// The forwarder's tunnel over the fake connection; the test controls the queued-bytes figure.
class FakeTunnel : public Tunnel {
 public:
  explicit FakeTunnel(FakeStreamConnection* c) : pairs(c) {}
  RequestId Open(uint16_t r, uint16_t l, ForwardCallbacks cb) override {
    return pairs.Open(r, l, std::move(cb));
  }
  bool Write(RequestId id, std::string_view b) override { return pairs.Write(id, b); }
  bool CloseWrite(RequestId id) override { return pairs.CloseWrite(id); }
  void Close(RequestId id) override { pairs.Close(id); }
  void Flush() override { ++flushes; }
  size_t BufferedBytes() const override { return buffered; }
  void SetReading(bool on) override { reading.push_back(on); }

  StreamPairClient pairs;
  size_t buffered = 0;
  int flushes = 0;
  std::vector<bool> reading;
};

struct Fixture {
  Fixture() {
    auto l = EventLoop::Create();
    REQUIRE(l.ok());
    loop = std::move(*l);
    ForwarderOptions o;
    o.tunnel_high_water = 1000;
    o.local_high_water = 64 * 1024;
    o.read_chunk = 4096;
    o.out_line = [this](const std::string& s) { out.push_back(s); };
    o.err_line = [this](const std::string& s) { err.push_back(s); };
    fwd = std::make_unique<Forwarder>(*loop, o);
  }
  ~Fixture() {
    fwd.reset();
    for (int fd : peers) ::close(fd);
  }
  // A local connection: the forwarder gets one end, the test keeps the other (the "client").
  int Connect(uint16_t local, uint16_t remote) {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
    peers.push_back(sv[1]);
    fwd->Accept(sv[0], local, remote);
    return sv[1];
  }
  // Replies to the pending error and data streams of request `id`.
  void Ready(int id) {
    auto* e = conn.FindByType("error", std::to_string(id));
    REQUIRE(e);
    conn.Reply(e->id);
    auto* d = conn.FindByType("data", std::to_string(id));
    REQUIRE(d);
    conn.Reply(d->id);
  }
  StreamId DataId(int id) { return conn.FindByType("data", std::to_string(id))->id; }
  StreamId ErrorId(int id) { return conn.FindByType("error", std::to_string(id))->id; }
  void Spin(int ms = 30) {
    loop->RunUntil([] { return false; }, milliseconds(ms));
  }
  std::string ReadAll(int fd, size_t want, int ms = 2000) {
    std::string got;
    loop->RunUntil(
        [&] {
          char buf[65536];
          ssize_t n;
          while ((n = ::read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
          return got.size() >= want;
        },
        milliseconds(ms));
    return got;
  }
  bool SeesEof(int fd, int ms = 2000) {
    bool eof = false;
    loop->RunUntil(
        [&] {
          char buf[4096];
          ssize_t n = ::read(fd, buf, sizeof buf);
          eof = n == 0 || (n < 0 && errno != EAGAIN);
          return eof;
        },
        milliseconds(ms));
    return eof;
  }

  std::unique_ptr<EventLoop> loop;
  FakeStreamConnection conn;
  FakeTunnel tunnel{&conn};
  std::unique_ptr<Forwarder> fwd;
  std::vector<std::string> out, err;
  std::vector<int> peers;
};

TEST_CASE("forwarder: one connection, bytes both ways, remote EOF closes the local socket") {
  Fixture f;
  f.fwd->SetTunnel(&f.tunnel);
  int c = f.Connect(8888, 5000);
  CHECK(f.out == std::vector<std::string>{"Handling connection for 8888"});
  REQUIRE(f.conn.OpenedTypes() == std::vector<std::string>{"error"});
  CHECK(f.conn.streams()[0].headers.Get("port") == "5000");
  // Bytes written before the data stream exists wait in the socket.
  REQUIRE(::write(c, "GET / HTTP/1.0\r\n\r\n", 18) == 18);
  f.Spin();
  f.Ready(0);
  f.Spin();
  CHECK(f.conn.Find(f.DataId(0))->written == "GET / HTTP/1.0\r\n\r\n");
  f.conn.Deliver(f.DataId(0), "HTTP/1.0 200 OK\r\n\r\nhello");
  CHECK(f.ReadAll(c, 24) == "HTTP/1.0 200 OK\r\n\r\nhello");
  f.conn.RemoteClose(f.DataId(0));
  CHECK(f.SeesEof(c));
  CHECK(f.fwd->active() == 0);
  CHECK(f.err.empty());
}

TEST_CASE("forwarder: local EOF half-closes the data stream; the reply still arrives") {
  Fixture f;
  f.fwd->SetTunnel(&f.tunnel);
  int c = f.Connect(1, 2);
  f.Ready(0);
  REQUIRE(::write(c, "q", 1) == 1);
  ::shutdown(c, SHUT_WR);
  f.Spin();
  auto* d = f.conn.Find(f.DataId(0));
  CHECK(d->written == "q");
  CHECK(d->write_closed);
  f.conn.Deliver(f.DataId(0), "answer");
  CHECK(f.ReadAll(c, 6) == "answer");
}

TEST_CASE("forwarder: an error on one connection closes only that one, and is reported") {
  Fixture f;
  f.fwd->SetTunnel(&f.tunnel);
  int a = f.Connect(8888, 5000);
  int b = f.Connect(8888, 5000);
  f.Ready(0);
  f.Ready(1);
  f.conn.Deliver(f.ErrorId(0), "error forwarding port 5000 to pod abc: connection refused");
  f.conn.RemoteClose(f.ErrorId(0));
  CHECK(f.SeesEof(a));
  REQUIRE(f.err.size() == 1);
  CHECK(f.err[0].find("connection refused") != std::string::npos);
  CHECK(f.fwd->active() == 1);
  // The other connection keeps working.
  REQUIRE(::write(b, "ping", 4) == 4);
  f.Spin();
  CHECK(f.conn.Find(f.DataId(1))->written == "ping");
  f.conn.Deliver(f.DataId(1), "pong");
  CHECK(f.ReadAll(b, 4) == "pong");
  // A third connection after the failure gets the next request id and works too.
  int c = f.Connect(8888, 5000);
  f.Ready(2);
  f.conn.Deliver(f.DataId(2), "ok");
  CHECK(f.ReadAll(c, 2) == "ok");
}

TEST_CASE("forwarder: connections accepted without a tunnel wait for one") {
  Fixture f;
  int c = f.Connect(9000, 80);
  REQUIRE(::write(c, "early", 5) == 5);
  f.Spin();
  CHECK(f.conn.streams().empty());
  f.fwd->SetTunnel(&f.tunnel);
  f.Ready(0);
  f.Spin();
  CHECK(f.conn.Find(f.DataId(0))->written == "early");
}

TEST_CASE("forwarder: a dropped tunnel closes its connections; new ones use the next tunnel") {
  Fixture f;
  f.fwd->SetTunnel(&f.tunnel);
  int a = f.Connect(1, 2);
  f.Ready(0);
  f.fwd->DropTunnelConnections("connection lost: EOF");
  f.fwd->SetTunnel(nullptr);
  CHECK(f.SeesEof(a));
  REQUIRE(f.err.size() == 1);
  CHECK(f.err[0] == "closing connection for 1 -> 2: connection lost: EOF");
  FakeStreamConnection conn2;
  FakeTunnel tunnel2(&conn2);
  int b = f.Connect(1, 2);
  f.fwd->SetTunnel(&tunnel2);
  auto* e = conn2.FindByType("error");
  REQUIRE(e);
  CHECK(e->headers.Get("requestid") == "0");  // a new session counts from 0 again
  conn2.Reply(e->id);
  conn2.Reply(conn2.FindByType("data")->id);
  conn2.Deliver(conn2.FindByType("data")->id, "back");
  CHECK(f.ReadAll(b, 4) == "back");
  f.fwd.reset();  // before tunnel2 goes away: the forwarder resets its streams on the way out
  CHECK(conn2.FindByType("data")->reset);
}

TEST_CASE("forwarder: local reads stop while the tunnel is congested and resume on drain") {
  Fixture f;
  f.fwd->SetTunnel(&f.tunnel);
  int c = f.Connect(1, 2);
  f.Ready(0);
  f.tunnel.buffered = 5000;  // above the 1000-byte high-water mark
  std::string chunk(3000, 'x');
  REQUIRE(::write(c, chunk.data(), chunk.size()) == 3000);
  f.Spin();
  CHECK(f.conn.Find(f.DataId(0))->written.empty());
  f.tunnel.buffered = 0;
  f.fwd->OnTunnelDrained();
  f.Spin();
  CHECK(f.conn.Find(f.DataId(0))->written == chunk);
}

TEST_CASE("forwarder: a slow local reader pauses the tunnel, bounded, and resumes it") {
  Fixture f;
  f.fwd->SetTunnel(&f.tunnel);
  int c = f.Connect(1, 2);
  f.Ready(0);
  // Fill the socketpair and the forwarder's buffer beyond the 64 KiB mark.
  std::string block(2 * 1024 * 1024, 'y');
  f.conn.Deliver(f.DataId(0), block);
  REQUIRE_FALSE(f.tunnel.reading.empty());
  CHECK(f.tunnel.reading.back() == false);
  std::string got = f.ReadAll(c, block.size(), 5000);
  CHECK(got.size() == block.size());
  CHECK(got == block);
  CHECK(f.tunnel.reading.back() == true);
  CHECK(f.fwd->bytes_to_local() == block.size());
}

TEST_CASE("forwarder: a local client that resets is forgotten and its streams reset") {
  Fixture f;
  f.fwd->SetTunnel(&f.tunnel);
  int c = f.Connect(1, 2);
  f.Ready(0);
  StreamId data = f.DataId(0);
  ::close(c);
  f.peers.clear();
  f.Spin();
  // Half-closed locally (EOF) then the peer's data arrives on a closed socket: EPIPE → finish.
  f.conn.Deliver(data, "late");
  f.Spin();
  CHECK(f.fwd->active() == 0);
  CHECK(f.conn.Find(data)->reset);
}

}  // namespace
}  // namespace kproxy::portforward
