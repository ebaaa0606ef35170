// Server-role tests of the simulator's streaming side (tests/sim/streaming), a unit suite:
// each session runs on one end of a socketpair in a thread, the test plays the client with
// independently built frames (tests/support/ws_frame masked client frames, spdy_builder's own
// SPDY encoder) and reads the server's raw bytes.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/spdy/spdy_frame.h"
#include "tests/sim/server/conn.h"
#include "tests/sim/streaming/attach_hub.h"
#include "tests/sim/streaming/exec_session.h"
#include "tests/sim/streaming/negotiation.h"
#include "tests/sim/streaming/portforward_session.h"
#include "tests/sim/streaming/process.h"
#include "tests/sim/streaming/server_transport.h"
#include "tests/support/spdy_builder.h"
#include "tests/support/ws_frame.h"

namespace kproxy::sim::streaming {
namespace {

namespace wsf = kproxy::test::ws;
namespace spdyb = kproxy::test::spdyb;
using Clock = std::chrono::steady_clock;
using remotecommand::ProtocolVersion;

ProcessSpec Argv(std::vector<std::string> argv) {
  ProcessSpec s;
  s.argv = std::move(argv);
  return s;
}

const wsf::MaskKey kMask = {0x12, 0x34, 0x56, 0x78};

// The test's end of a socketpair: raw writes and bounded reads.
struct Peer {
  int fd = -1;
  ~Peer() {
    if (fd >= 0) close(fd);
  }
  void Send(const std::string& bytes) const {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += n;
    }
  }
  // Reads what arrives within `ms`; sets *eof at end of stream.
  std::string Read(int ms, bool* eof = nullptr) const {
    std::string out;
    auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    while (Clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      char buf[65536];
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        if (eof) *eof = true;
        break;
      }
      out.append(buf, n);
    }
    return out;
  }
};

// A session running in a thread on the other end of a socketpair.
template <typename Fn>
struct ServerThread {
  Peer client;
  std::thread thread;
  explicit ServerThread(Fn fn) {
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    client.fd = sv[0];
    thread = std::thread([fn, fd = sv[1]]() mutable {
      Conn conn(fd, nullptr);
      fn(conn);
    });
  }
  ~ServerThread() {
    shutdown(client.fd, SHUT_RDWR);
    thread.join();
  }
};
template <typename Fn>
ServerThread(Fn) -> ServerThread<Fn>;

ExecParams ShellParams(bool websocket, ProtocolVersion v, const std::string& script, bool in,
                       bool out, bool err, bool tty = false) {
  ExecParams p;
  p.websocket = websocket;
  p.version = v;
  p.options.stdin = in;
  p.options.stdout = out;
  p.options.stderr = err && !tty;
  p.options.tty = tty;
  p.spec.argv = {"sh", "-c", script};
  p.spec.tty = tty;
  p.stream_timeout = std::chrono::milliseconds(2000);
  return p;
}

std::string ClientFrame(wsf::Opcode op, const std::string& payload) {
  return wsf::EncodeFrame(op, payload, true, kMask);
}

// Reads server WebSocket messages until `done(messages)` or the time runs out.
std::vector<wsf::Message> ReadWs(
    const Peer& p, wsf::MessageDecoder* dec, int ms,
    const std::function<bool(const std::vector<wsf::Message>&)>& done) {
  std::vector<wsf::Message> all;
  auto deadline = Clock::now() + std::chrono::milliseconds(ms);
  while (Clock::now() < deadline && !done(all)) {
    bool eof = false;
    std::string bytes = p.Read(50, &eof);
    REQUIRE(dec->Feed(bytes, &all).ok());
    if (eof) break;
  }
  return all;
}

bool HasClose(const std::vector<wsf::Message>& m) {
  for (const auto& x : m)
    if (x.kind == wsf::Message::Kind::kClose) return true;
  return false;
}

// Collects server SPDY frames (decoded by core/spdy's decoder from the raw bytes).
struct SpdyReader {
  spdy::FrameDecoder decoder;
  std::vector<spdy::Frame> frames;
  bool eof = false;
  void ReadFor(const Peer& p, int ms, const std::function<bool()>& done) {
    auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    while (Clock::now() < deadline && !done() && !eof) {
      std::string bytes = p.Read(50, &eof);
      REQUIRE(
          decoder.Feed(bytes, [this](spdy::Frame&& f) { frames.push_back(std::move(f)); }).ok());
    }
  }
  bool Has(spdy::FrameType t) const {
    for (const auto& f : frames)
      if (f.type == t) return true;
    return false;
  }
  std::string DataOn(uint32_t id) const {
    std::string s;
    for (const auto& f : frames)
      if (f.type == spdy::FrameType::kData && f.stream_id == id) s += f.data;
    return s;
  }
  bool FinOn(uint32_t id) const {
    for (const auto& f : frames)
      if (f.type == spdy::FrameType::kData && f.stream_id == id && f.fin()) return true;
    return false;
  }
};

// A one-connection "container" port on 127.0.0.1: `serve` gets the accepted socket (and closes
// it); by default it echoes until the client shuts down.
struct EchoPort {
  int lfd = -1;
  int port = 0;
  std::thread thread;
  static void Echo(int c) {
    char b[65536];
    ssize_t n;
    while ((n = recv(c, b, sizeof b, 0)) > 0) send(c, b, n, MSG_NOSIGNAL);
    close(c);
  }
  explicit EchoPort(std::function<void(int)> serve = Echo) {
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    listen(lfd, 4);
    socklen_t len = sizeof a;
    getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    thread = std::thread([fd = lfd, serve] {
      int c = accept(fd, nullptr, nullptr);
      if (c >= 0) serve(c);
    });
  }
  ~EchoPort() {
    shutdown(lfd, SHUT_RDWR);
    close(lfd);
    thread.join();
  }
};

PortForwardParams EchoParams(int echo_port) {
  PortForwardParams p;
  p.pod_name = "web";
  p.pod_uid = "uid-1";
  p.local_port = [echo_port](uint16_t port) -> std::optional<int> {
    if (port == 8080) return echo_port;
    return std::nullopt;
  };
  return p;
}

}  // namespace

TEST_SUITE("sim.streaming") {
  TEST_CASE("negotiation: WebSocket subprotocol in the client's order, first header line only") {
    CHECK(OfferedWebSocketProtocols(
              {"v5.channel.k8s.io, v4.channel.k8s.io", "base64.channel.k8s.io"}) ==
          std::vector<std::string>{"v5.channel.k8s.io", "v4.channel.k8s.io"});
    CHECK(ChooseWebSocketProtocol({"v4.channel.k8s.io", "v5.channel.k8s.io"},
                                  ExecWebSocketProtocols(true)) == "v4.channel.k8s.io");
    CHECK(ChooseWebSocketProtocol({"v5.channel.k8s.io"}, ExecWebSocketProtocols(false)) ==
          std::nullopt);
    CHECK(ChooseWebSocketProtocol({"x", "base64.channel.k8s.io"}, ExecWebSocketProtocols(true)) ==
          "base64.channel.k8s.io");
    CHECK(ChooseWebSocketProtocol({}, ExecWebSocketProtocols(true)) == "");
  }

  TEST_CASE("negotiation: SPDY X-Stream-Protocol-Version, kubelet's 400 and 403 texts") {
    SpdyNegotiation n = NegotiateSpdyVersion(
        {"v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io"}, ExecSpdyVersions());
    CHECK(n.ok);
    CHECK(n.version == "v4.channel.k8s.io");
    n = NegotiateSpdyVersion({}, ExecSpdyVersions());
    CHECK(!n.ok);
    CHECK(n.http_status == 400);
    CHECK(n.body == "unable to upgrade: X-Stream-Protocol-Version is required\n");
    n = NegotiateSpdyVersion({"v9.channel.k8s.io"}, {"portforward.k8s.io"});
    CHECK(n.http_status == 403);
    CHECK(n.body ==
          "unable to upgrade: unable to negotiate protocol: client supports [v9.channel.k8s.io], "
          "server accepts [portforward.k8s.io]\n");
  }

  TEST_CASE("resize events: whole, byte by byte, random splits; malformed skipped, bounded") {
    const std::string input =
        "{\"Width\":80,\"Height\":24}\n{\"Width\":\"x\"}\n{\"Width\":120,\"Height\":40}\n";
    const std::vector<std::pair<uint16_t, uint16_t>> want = {{80, 24}, {120, 40}};
    std::string buf;
    CHECK(ParseResizeEvents(&buf, input) == want);
    buf.clear();
    std::vector<std::pair<uint16_t, uint16_t>> got;
    for (char c : input)
      for (auto e : ParseResizeEvents(&buf, std::string(1, c))) got.push_back(e);
    CHECK(got == want);
    std::mt19937 rng(7);
    for (int round = 0; round < 20; ++round) {
      buf.clear();
      got.clear();
      size_t off = 0;
      while (off < input.size()) {
        size_t n = std::min<size_t>(input.size() - off, 1 + rng() % 9);
        for (auto e : ParseResizeEvents(&buf, input.substr(off, n))) got.push_back(e);
        off += n;
      }
      CHECK(got == want);
    }
    buf.clear();
    CHECK(ParseResizeEvents(&buf, "{\"Width\":70000,\"Height\":1}").empty());
    CHECK(ParseResizeEvents(&buf, std::string(10000, 'x')).empty());
    CHECK(buf.size() <= 4096);
  }

  TEST_CASE("process: exit codes, signals as 128+n, stdin EOF, pty size and resize") {
    auto p = Process::Start(Argv({"sh", "-c", "exit 3"}));
    REQUIRE(p.ok());
    CHECK((*p)->Wait(5000) == 3);
    p = Process::Start(Argv({"sh", "-c", "kill -TERM $$"}));
    REQUIRE(p.ok());
    CHECK((*p)->Wait(5000) == 128 + SIGTERM);
    p = Process::Start(Argv({"/nonexistent/command"}));
    REQUIRE(p.ok());
    CHECK((*p)->Wait(5000) == 127);

    // stdin EOF through a pipe: cat ends.
    p = Process::Start(Argv({"cat"}));
    REQUIRE(p.ok());
    CHECK((*p)->WriteStdin("abc") == 3);
    (*p)->CloseStdin();
    CHECK((*p)->Wait(5000) == 0);

    // A pty: stty reports the initial size, then the new one; VEOF ends cat.
    ProcessSpec spec{
        {"sh", "-c", "stty size; read x; stty size; cat; echo done"}, "", {}, true, 100, 30};
    p = Process::Start(spec);
    REQUIRE(p.ok());
    Process& proc = **p;
    std::string out;
    auto read_until = [&](const std::string& needle) {
      auto deadline = Clock::now() + std::chrono::seconds(5);
      while (out.find(needle) == std::string::npos && Clock::now() < deadline) {
        pollfd pf{proc.stdout_fd(), POLLIN, 0};
        if (poll(&pf, 1, 50) <= 0) continue;
        char b[1024];
        ssize_t n = read(proc.stdout_fd(), b, sizeof b);
        if (n > 0) out.append(b, n);
        if (n <= 0 && errno != EAGAIN) break;
      }
      return out.find(needle) != std::string::npos;
    };
    CHECK(read_until("30 100"));
    proc.Resize(132, 43);
    proc.WriteStdin("\n");
    CHECK(read_until("43 132"));
    proc.CloseStdin();
    CHECK(read_until("done"));
    CHECK(proc.Wait(5000) == 0);
  }

  TEST_CASE("attach hub: one process per container, output fanned out, restarted after exit") {
    AttachHub hub;
    ProcessSpec spec = Argv({"sh", "-c", "read line; echo got-$line; exit 9"});
    auto a = hub.Get("ns/pod/c", spec);
    auto b = hub.Get("ns/pod/c", spec);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->get() == b->get());
    AttachSubscriber s1, s2;
    (*a)->Subscribe(&s1);
    (*a)->Subscribe(&s2);
    CHECK((*a)->WriteStdin("x\n") == 2);
    auto collect = [](AttachSubscriber& s) {
      std::string out;
      auto deadline = Clock::now() + std::chrono::seconds(5);
      while (!s.exit_code() && Clock::now() < deadline) {
        pollfd p{s.wake_fd(), POLLIN, 0};
        poll(&p, 1, 50);
        for (auto& c : s.Take()) out += c.data;
      }
      for (auto& c : s.Take()) out += c.data;
      return out;
    };
    CHECK(collect(s1) == "got-x\n");
    CHECK(collect(s2) == "got-x\n");
    CHECK(s1.exit_code() == 9);
    (*a)->Unsubscribe(&s1);
    (*a)->Unsubscribe(&s2);
    auto c = hub.Get("ns/pod/c", spec);
    REQUIRE(c.ok());
    CHECK(c->get() != a->get());
    hub.Clear();
  }

  TEST_CASE("WebSocket v5 exec: marker first, stdin and close signal, status then close 1000") {
    ServerThread s([](Conn& conn) {
      WsChannelTransport t(ws::ChannelProtocol::kV5);
      RunExecSession(conn, t, "",
                     ShellParams(true, ProtocolVersion::kV5, "cat; echo to-err >&2; exit 3", true,
                                 true, true));
    });
    wsf::MessageDecoder dec(wsf::Role::kClient);
    // The marker: one message holding only the lowest writable channel (stdout = 1).
    auto first = ReadWs(s.client, &dec, 3000, [](const auto& m) { return !m.empty(); });
    REQUIRE(!first.empty());
    CHECK(first[0].kind == wsf::Message::Kind::kBinary);
    CHECK(first[0].payload == std::string("\x01", 1));
    // A ping is answered with the same payload.
    s.client.Send(ClientFrame(wsf::Opcode::kPing, "are-you-there"));
    s.client.Send(ClientFrame(wsf::Opcode::kBinary, std::string("\x00", 1) + "hello\n"));
    s.client.Send(ClientFrame(wsf::Opcode::kBinary, std::string("\xff\x00", 2)));
    auto rest = ReadWs(s.client, &dec, 10000, HasClose);
    std::string out, err, status;
    bool pong = false;
    size_t status_index = 0, close_index = 0;
    for (size_t i = 0; i < rest.size(); ++i) {
      const wsf::Message& m = rest[i];
      if (m.kind == wsf::Message::Kind::kPong) pong = m.payload == "are-you-there";
      if (m.kind == wsf::Message::Kind::kClose) {
        close_index = i;
        CHECK(m.close_code == 1000);
      }
      if (m.kind != wsf::Message::Kind::kBinary || m.payload.empty()) continue;
      std::string body = m.payload.substr(1);
      if (m.payload[0] == 1) out += body;
      if (m.payload[0] == 2) err += body;
      if (m.payload[0] == 3) {
        status += body;
        status_index = i;
      }
    }
    CHECK(pong);
    CHECK(out == "hello\n");
    CHECK(err == "to-err\n");
    CHECK(status.find("\"reason\":\"NonZeroExitCode\"") != std::string::npos);
    CHECK(status.find("{\"reason\":\"ExitCode\",\"message\":\"3\"}") != std::string::npos);
    CHECK(close_index > status_index);
  }

  TEST_CASE("WebSocket base64 exec: text frames both ways, Success status") {
    ServerThread s([](Conn& conn) {
      WsChannelTransport t(ws::ChannelProtocol::kBase64);
      RunExecSession(conn, t, "",
                     ShellParams(true, ProtocolVersion::kV1, "echo hi", false, true, false));
    });
    wsf::MessageDecoder dec(wsf::Role::kClient);
    auto msgs = ReadWs(s.client, &dec, 10000, HasClose);
    std::string joined;
    for (const auto& m : msgs) {
      if (m.kind == wsf::Message::Kind::kBinary) FAIL("binary frame under a base64 protocol");
      if (m.kind == wsf::Message::Kind::kText) joined += m.payload + "|";
    }
    // '1' + base64("hi\n"); v1 writes nothing on the error channel for success.
    CHECK(joined.find("1aGkK|") != std::string::npos);
  }

  TEST_CASE("WebSocket garbage: unmasked or oversized frames end the session with a close") {
    for (std::string garbage :
         {std::string("\x82\x05hello", 7),
          std::string("\x82\xff\x7f\xff\xff\xff\xff\xff\xff\xff\x01\x02\x03\x04", 14),
          std::string("\x8f\x80\x00\x00\x00\x00", 6)}) {
      auto start = Clock::now();
      ServerThread s([](Conn& conn) {
        WsChannelTransport t(ws::ChannelProtocol::kV5);
        RunExecSession(conn, t, "",
                       ShellParams(true, ProtocolVersion::kV5, "sleep 30", true, true, false));
      });
      s.client.Send(garbage);
      wsf::MessageDecoder dec(wsf::Role::kClient);
      auto msgs = ReadWs(s.client, &dec, 5000, HasClose);
      CHECK(HasClose(msgs));
      bool eof = false;
      s.client.Read(3000, &eof);
      CHECK(eof);
      CHECK(Clock::now() - start < std::chrono::seconds(5));
    }
  }

  TEST_CASE("SPDY exec: SYN_REPLY before data, > 64 KiB without windows, status + FIN, GOAWAY") {
    ServerThread s([](Conn& conn) {
      SpdyTransport t;
      RunExecSession(conn, t, "",
                     ShellParams(false, ProtocolVersion::kV4, "head -c 300000 /dev/zero; exit 7",
                                 false, true, true));
    });
    spdyb::Deflater z;
    SpdyReader r;
    // error, stdout, stderr: one at a time, each after the previous reply, as spdystream does.
    uint32_t id = 1;
    for (const char* type : {"error", "stdout", "stderr"}) {
      s.client.Send(spdyb::SynStream(z, id, 0, {{"streamtype", type}}));
      size_t replies_before = 0;
      for (const auto& f : r.frames) replies_before += f.type == spdy::FrameType::kSynReply;
      r.ReadFor(s.client, 3000, [&] {
        size_t n = 0;
        for (const auto& f : r.frames) n += f.type == spdy::FrameType::kSynReply;
        return n > replies_before;
      });
      id += 2;
    }
    r.ReadFor(s.client, 15000, [&] { return r.Has(spdy::FrameType::kGoAway); });
    // Every stream's SYN_REPLY precedes its first DATA frame.
    std::map<uint32_t, bool> replied;
    for (const auto& f : r.frames) {
      if (f.type == spdy::FrameType::kSynReply) replied[f.stream_id] = true;
      if (f.type == spdy::FrameType::kData) CHECK(replied[f.stream_id]);
    }
    CHECK(r.DataOn(3) == std::string(300000, '\0'));  // no WINDOW_UPDATE was ever sent
    CHECK(r.FinOn(3));
    std::string status = r.DataOn(1);
    CHECK(status.find("\"message\":\"7\"") != std::string::npos);
    CHECK(r.FinOn(1));
    CHECK(r.Has(spdy::FrameType::kGoAway));
  }

  TEST_CASE("SPDY exec waits for exactly the promised streams, then gives up after the timeout") {
    std::atomic<bool> complete{true};
    ServerThread s([&complete](Conn& conn) {
      SpdyTransport t;
      ExecParams p = ShellParams(false, ProtocolVersion::kV4, "echo early", true, true, true);
      p.stream_timeout = std::chrono::milliseconds(400);
      complete = RunExecSession(conn, t, "", std::move(p)).streams_complete;
    });
    spdyb::Deflater z;
    SpdyReader r;
    // stdin, stdout and stderr were promised; only error and stdout arrive.
    s.client.Send(spdyb::SynStream(z, 1, 0, {{"streamtype", "error"}}));
    s.client.Send(spdyb::SynStream(z, 3, 0, {{"streamtype", "stdout"}}));
    auto start = Clock::now();
    r.ReadFor(s.client, 5000, [&] { return r.eof; });
    CHECK(r.eof);
    CHECK(Clock::now() - start >= std::chrono::milliseconds(300));
    CHECK(r.DataOn(3).empty());  // the process never ran
    s.client.Send("");
    shutdown(s.client.fd, SHUT_RDWR);
    s.thread.join();
    s.thread = std::thread([] {});
    CHECK(!complete);
  }

  TEST_CASE("SPDY garbage: bad frames end the session with GOAWAY, no crash") {
    std::mt19937 rng(11);
    for (int round = 0; round < 5; ++round) {
      ServerThread s([](Conn& conn) {
        SpdyTransport t;
        ExecParams p = ShellParams(false, ProtocolVersion::kV4, "sleep 30", true, true, true);
        p.stream_timeout = std::chrono::milliseconds(1500);
        RunExecSession(conn, t, "", std::move(p));
      });
      std::string junk(4096, '\0');
      for (char& c : junk) c = static_cast<char>(rng());
      junk[0] = static_cast<char>(0x80);  // a control frame, version 3, unknown garbage after
      junk[1] = 3;
      s.client.Send(junk);
      SpdyReader r;
      auto start = Clock::now();
      bool eof = false;
      while (!eof && Clock::now() - start < std::chrono::seconds(4)) s.client.Read(100, &eof);
      CHECK(eof);
    }
  }

  TEST_CASE("SPDY port-forward: data copied both ways; dial failure answered on the error stream") {
    EchoPort echo;
    ServerThread s([port = echo.port](Conn& conn) {
      SpdyTransport t;
      RunSpdyPortForward(conn, t, "", EchoParams(port));
    });
    spdyb::Deflater z;
    SpdyReader r;
    auto pair = [&](uint32_t first, const std::string& port, const std::string& req) {
      s.client.Send(spdyb::SynStream(
          z, first, 0, {{"streamtype", "error"}, {"port", port}, {"requestid", req}}));
      s.client.Send(spdyb::Data(first, 1, ""));  // the client FINs the error stream at once
      s.client.Send(spdyb::SynStream(z, first + 2, 0,
                                     {{"streamtype", "data"}, {"port", port}, {"requestid", req}}));
    };
    pair(1, "8080", "0");
    std::string payload(200000, 'p');
    s.client.Send(spdyb::Data(3, 0, payload.substr(0, 100000)));
    s.client.Send(spdyb::Data(3, 1, payload.substr(100000)));
    r.ReadFor(s.client, 10000, [&] { return r.FinOn(3); });
    CHECK(r.DataOn(3) == payload);
    CHECK(r.FinOn(3));
    pair(5, "9999", "1");
    r.ReadFor(s.client, 5000, [&] { return r.FinOn(5); });
    CHECK(r.DataOn(5).find("error forwarding port 9999 to pod ") == 0);
    CHECK(r.DataOn(5).find(", uid : failed to execute portforward in network namespace") !=
          std::string::npos);
    CHECK(r.DataOn(5).find("connect: connection refused") != std::string::npos);
  }

  TEST_CASE("SPDY port-forward: the container closing ends the pair, error stream included") {
    // A "container" that answers once and closes, like an HTTP server with Connection: close.
    EchoPort pod([](int c) {
      send(c, "bye", 3, MSG_NOSIGNAL);
      close(c);
    });
    ServerThread s([port = pod.port](Conn& conn) {
      SpdyTransport t;
      RunSpdyPortForward(conn, t, "", EchoParams(port));
    });
    spdyb::Deflater z;
    SpdyReader r;
    s.client.Send(
        spdyb::SynStream(z, 1, 0, {{"streamtype", "error"}, {"port", "8080"}, {"requestid", "0"}}));
    s.client.Send(spdyb::Data(1, 1, ""));
    // The data stream stays open from the client's side: kubectl keeps it until it closes
    // its local connection, which it does only once the error stream ends.
    s.client.Send(
        spdyb::SynStream(z, 3, 0, {{"streamtype", "data"}, {"port", "8080"}, {"requestid", "0"}}));
    r.ReadFor(s.client, 10000, [&] { return r.FinOn(3) && r.FinOn(1); });
    CHECK(r.DataOn(3) == "bye");
    CHECK(r.FinOn(3));
    CHECK(r.FinOn(1));
    CHECK(r.DataOn(1) == "");
  }

  TEST_CASE("SPDY port-forward: a flood of streams is bounded and never crashes") {
    ServerThread s([](Conn& conn) {
      SpdyTransport t;
      PortForwardParams p;
      p.local_port = [](uint16_t) -> std::optional<int> { return std::nullopt; };
      p.max_streams = 64;
      p.stream_timeout = std::chrono::milliseconds(300);
      RunSpdyPortForward(conn, t, "", p);
    });
    spdyb::Deflater z;
    std::string burst;
    for (uint32_t i = 0; i < 500; ++i) {
      burst += spdyb::SynStream(
          z, 1 + 2 * i, 0,
          {{"streamtype", "data"}, {"port", "80"}, {"requestid", std::to_string(i)}});
    }
    s.client.Send(burst);
    SpdyReader r;
    r.ReadFor(s.client, 3000, [&] {
      size_t resets = 0;
      for (const auto& f : r.frames) resets += f.type == spdy::FrameType::kRstStream;
      return resets >= 500 - 64;
    });
    size_t resets = 0;
    for (const auto& f : r.frames) resets += f.type == spdy::FrameType::kRstStream;
    CHECK(resets >= 500 - 64);
  }

  TEST_CASE("WebSocket tunnel port-forward: SPDY bytes split across binary messages") {
    EchoPort echo;
    ServerThread s([port = echo.port](Conn& conn) {
      WsTunnelTransport t;
      RunSpdyPortForward(conn, t, "", EchoParams(port));
    });
    spdyb::Deflater z;
    // One statement per header block: the deflate stream must see them in wire order.
    std::string spdy =
        spdyb::SynStream(z, 1, 0, {{"streamtype", "error"}, {"port", "8080"}, {"requestid", "0"}});
    spdy += spdyb::Data(1, 1, "");
    spdy +=
        spdyb::SynStream(z, 3, 0, {{"streamtype", "data"}, {"port", "8080"}, {"requestid", "0"}});
    spdy += spdyb::Data(3, 1, "GET / HTTP/1.0\r\n\r\n");
    // Message boundaries mean nothing: cut the byte stream into 7-byte binary messages.
    for (size_t off = 0; off < spdy.size(); off += 7)
      s.client.Send(ClientFrame(wsf::Opcode::kBinary, spdy.substr(off, 7)));
    wsf::MessageDecoder dec(wsf::Role::kClient);
    spdy::FrameDecoder frames;
    std::string echoed;
    bool fin = false;
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (!fin && Clock::now() < deadline) {
      std::vector<wsf::Message> msgs;
      REQUIRE(dec.Feed(s.client.Read(50), &msgs).ok());
      for (const auto& m : msgs) {
        INFO("close " << m.close_code.value_or(0) << " " << m.payload);
        REQUIRE(m.kind == wsf::Message::Kind::kBinary);
        REQUIRE(frames
                    .Feed(m.payload,
                          [&](spdy::Frame&& f) {
                            if (f.type == spdy::FrameType::kData && f.stream_id == 3) {
                              echoed += f.data;
                              fin = fin || f.fin();
                            }
                          })
                    .ok());
      }
    }
    CHECK(echoed == "GET / HTTP/1.0\r\n\r\n");
    CHECK(fin);
    // A text message is a protocol error in the tunnel: the server closes.
    s.client.Send(ClientFrame(wsf::Opcode::kText, "nope"));
    auto rest = ReadWs(s.client, &dec, 3000, HasClose);
    CHECK(HasClose(rest));
  }

  TEST_CASE("legacy WebSocket port-forward: port prefix on both channels, data on channel 0") {
    EchoPort echo;
    ServerThread s([port = echo.port](Conn& conn) {
      WsMessageTransport t(ws::ChannelProtocol::kV4);
      RunLegacyWsPortForward(conn, t, "", {8080, 9999}, EchoParams(port));
    });
    wsf::MessageDecoder dec(wsf::Role::kClient);
    auto first = ReadWs(s.client, &dec, 5000, [](const auto& m) { return m.size() >= 5; });
    REQUIRE(first.size() >= 5);
    // 8080 = 0x1F90 little-endian on channels 0 and 1, 9999 = 0x270F on channels 2 and 3.
    CHECK(first[0].payload == std::string("\x00\x90\x1f", 3));
    CHECK(first[1].payload == std::string("\x01\x90\x1f", 3));
    CHECK(first[2].payload == std::string("\x02\x0f\x27", 3));
    CHECK(first[3].payload == std::string("\x03\x0f\x27", 3));
    CHECK(first[4].payload.substr(0, 1) == "\x03");
    CHECK(first[4].payload.find("connect: connection refused") != std::string::npos);
    s.client.Send(ClientFrame(wsf::Opcode::kBinary, std::string("\x00", 1) + "legacy bytes"));
    std::string echoed;
    ReadWs(s.client, &dec, 5000, [&](const auto& m) {
      echoed.clear();
      for (const auto& x : m)
        if (!x.payload.empty() && x.payload[0] == 0) echoed += x.payload.substr(1);
      return echoed == "legacy bytes";
    });
    CHECK(echoed == "legacy bytes");
  }
}

}  // namespace kproxy::sim::streaming
