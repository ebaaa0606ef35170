// The port-forward WebSocket tunnel transport against a hand-written TLS WebSocket peer: the
// handshake is answered by the test, frames are built with the test-only RFC 6455 codec, and
// the server's SPDY bytes are cut at arbitrary points across messages and fragments (message
// boundaries mean nothing inside the tunnel).
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/portforward/stream_pairing_client.h"
#include "core/session/portforward_session.h"
#include "core/session/stream_transport.h"
#include "core/spdy/spdy_session.h"
#include "tests/support/ws_frame.h"
#include "tests/unit/transport_test_support.h"

namespace kproxy {
namespace {

using std::chrono::milliseconds;
namespace tws = test::ws;

std::string ReadHeadOf(SSL* ssl) {
  std::string head;
  char c;
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
    if (SSL_read(ssl, &c, 1) != 1) break;
    head.push_back(c);
  }
  return head;
}

void WriteAll(SSL* ssl, const std::string& s) {
  size_t off = 0;
  if (s.empty()) return;
  while (off < s.size()) {
    int n = SSL_write(ssl, s.data() + off, static_cast<int>(s.size() - off));
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

std::string Header(const std::string& head, const std::string& lower_name) {
  size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string::npos) {
    pos += 2;
    size_t colon = head.find(':', pos);
    size_t eol = head.find("\r\n", pos);
    if (colon == std::string::npos || eol == std::string::npos || colon > eol) continue;
    std::string name = head.substr(pos, colon - pos);
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (name == lower_name) {
      std::string v = head.substr(colon + 1, eol - colon - 1);
      while (!v.empty() && v[0] == ' ') v.erase(0, 1);
      return v;
    }
  }
  return "";
}

std::string AcceptKey(const std::string& key) {
  std::string in = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(in.data()), in.size(), digest);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n));
}

// kDropOnMarker: the first connection is cut (no close frame) once "drop-me" arrives.
enum class Mode { kEcho, kEchoThenText, kRefuse, kDropOnMarker };

// Echoes every port-forward data stream; the error stream stays silent. Server SPDY output is
// cut into 3-byte messages, every other one sent as a 2-frame fragmented message.
class TunnelPeer {
 public:
  explicit TunnelPeer(Mode mode) : server_({}, [this, mode](SSL* ssl, int) { Serve(ssl, mode); }) {}
  int port() const { return server_.port(); }
  std::string request() {
    std::lock_guard<std::mutex> l(mu_);
    return request_;
  }
  int connections() {
    std::lock_guard<std::mutex> l(mu_);
    return connections_;
  }
  std::vector<std::string> stream_types() {
    std::lock_guard<std::mutex> l(mu_);
    return types_;
  }

 private:
  class Echo : public StreamHandler {
   public:
    Echo(spdy::SpdySession* s, StreamId id, bool echo, bool* marker)
        : s_(s), id_(id), echo_(echo), marker_(marker) {}
    void OnData(std::string_view b) override {
      if (b.find("drop-me") != std::string_view::npos) *marker_ = true;
      if (echo_) s_->Write(id_, b);
    }
    void OnRemoteClose() override {
      if (echo_) s_->CloseWrite(id_);
    }
    void OnReset(std::string_view) override {}

   private:
    spdy::SpdySession* s_;
    StreamId id_;
    bool echo_;
    bool* marker_;
  };

  void SendChopped(SSL* ssl, const std::string& bytes) {
    std::string wire;
    for (size_t off = 0; off < bytes.size(); off += 3) {
      std::string piece = bytes.substr(off, 3);
      if ((++count_ % 2) == 0 && piece.size() > 1) {
        wire += tws::EncodeFrame(tws::Opcode::kBinary, piece.substr(0, 1), false);
        wire += tws::EncodeFrame(tws::Opcode::kContinuation, piece.substr(1), true);
      } else {
        wire += tws::EncodeFrame(tws::Opcode::kBinary, piece);
      }
    }
    WriteAll(ssl, wire);
  }

  void Serve(SSL* ssl, Mode mode) {
    std::string head = ReadHeadOf(ssl);
    bool first = false;
    {
      std::lock_guard<std::mutex> l(mu_);
      request_ = head;
      first = connections_++ == 0;
    }
    // POST = a SPDY/3.1 upgrade (the fallback); GET = the WebSocket tunnel.
    bool spdy_upgrade = head.rfind("POST ", 0) == 0;
    if (mode == Mode::kRefuse && !spdy_upgrade) {
      std::string body = "query parameter \"port\" is required";
      WriteAll(ssl, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body);
      return;
    }
    if (spdy_upgrade) {
      WriteAll(ssl,
               "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
               "X-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n");
    } else {
      WriteAll(ssl,
               "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Accept: " +
                   AcceptKey(Header(head, "sec-websocket-key")) +
                   "\r\nSec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io\r\n\r\n");
    }
    spdy::SpdySession session(spdy::Role::kServer);
    std::vector<std::unique_ptr<Echo>> handlers;
    bool marker = false;
    session.SetAcceptHandler([&](StreamId id, const StreamHeaders& h) -> StreamHandler* {
      {
        std::lock_guard<std::mutex> l(mu_);
        types_.push_back(h.Get("streamtype") + "/" + h.Get("port") + "/" + h.Get("requestid"));
      }
      bool data = h.Get("streamtype") == "data";
      // Port 9999 has nothing listening: the kubelet reports it on the error stream.
      if (h.Get("port") == "9999") {
        if (!data)
          session.Write(id,
                        "error forwarding port 9999 to pod web, uid : failed to connect to "
                        "localhost:9999: connection refused");
        session.CloseWrite(id);
        data = false;
      }
      handlers.push_back(std::make_unique<Echo>(&session, id, data, &marker));
      return handlers.back().get();
    });
    tws::MessageDecoder decoder(tws::Role::kServer);
    bool sent_text = false;
    char buf[16384];
    while (true) {
      int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) return;
      if (spdy_upgrade) {
        if (!session.Receive(std::string_view(buf, static_cast<size_t>(n))).ok()) return;
        WriteAll(ssl, session.TakeOutput());
        continue;
      }
      std::vector<tws::Message> msgs;
      if (!decoder.Feed(std::string_view(buf, static_cast<size_t>(n)), &msgs).ok()) return;
      for (auto& m : msgs) {
        if (m.kind == tws::Message::Kind::kClose) {
          WriteAll(ssl, tws::EncodeClose(1000, ""));
          return;
        }
        if (m.kind != tws::Message::Kind::kBinary) continue;
        if (!session.Receive(m.payload).ok()) return;
      }
      if (marker && first && mode == Mode::kDropOnMarker) return;
      std::string out = session.TakeOutput();
      if (!out.empty()) SendChopped(ssl, out);
      if (mode == Mode::kEchoThenText && !sent_text && out.find("echo-me") != std::string::npos) {
        sent_text = true;
        WriteAll(ssl, tws::EncodeFrame(tws::Opcode::kText, "not binary"));
      }
    }
  }

  test::TestTlsServer server_;
  std::mutex mu_;
  std::string request_;
  std::vector<std::string> types_;
  int connections_ = 0;
  int count_ = 0;
};

UpgradeTarget Target(int port) {
  UpgradeTarget t;
  t.dial.server.scheme = "https";
  t.dial.server.host = "127.0.0.1";
  t.dial.server.port = static_cast<uint16_t>(port);
  t.dial.tls.ca_pem = test::Pki().ca_pem;
  t.dial.timeout = milliseconds(5000);
  t.path_and_query = "/api/v1/namespaces/default/pods/web/portforward";
  t.user_agent = "kproxy/0.1.0 (linux/amd64) kubernetes/test";
  t.headers = {{"Authorization", "Bearer tunnel-token"}};
  return t;
}

struct Dialed {
  std::unique_ptr<StreamTransport> transport;
  std::optional<AttemptFailure> failure;
  bool done = false;
};

Dialed Dial(EventLoop& loop, int port) {
  Dialed d;
  auto pending =
      DialWebSocketTunnel(loop, Target(port), RefusalContext{},
                          [&](Result<std::unique_ptr<StreamTransport>> r, AttemptFailure f) {
                            d.done = true;
                            if (r.ok()) {
                              d.transport = std::move(*r);
                            } else {
                              d.failure = std::move(f);
                            }
                          });
  loop.RunUntil([&] { return d.done; }, milliseconds(8000));
  return d;
}

TEST_CASE("ws tunnel: SPDY port-forward over binary messages cut at arbitrary points") {
  REQUIRE(test::Pki().ok);
  TunnelPeer peer(Mode::kEcho);
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  Dialed d = Dial(**loop, peer.port());
  REQUIRE(d.transport);
  CHECK(d.transport->negotiated() == "portforward.k8s.io");
  CHECK(d.transport->kind() == StreamProtocol::kWebSocket);
  std::string req = peer.request();
  CHECK(req.rfind("GET /api/v1/namespaces/default/pods/web/portforward HTTP/1.1\r\n", 0) == 0);
  CHECK(Header(req, "sec-websocket-protocol") == "SPDY/3.1+portforward.k8s.io");
  CHECK(Header(req, "authorization") == "Bearer tunnel-token");

  portforward::StreamPairClient pairs(d.transport->connection());
  std::string got;
  bool ready = false, closed = false;
  portforward::ForwardCallbacks cb;
  cb.on_ready = [&] { ready = true; };
  cb.on_data = [&](std::string_view b) { got.append(b); };
  cb.on_remote_close = [&] { closed = true; };
  auto id = pairs.Open(5000, 8888, cb);
  d.transport->Flush();
  REQUIRE((*loop)->RunUntil([&] { return ready; }, milliseconds(5000)));
  std::string payload;
  for (int i = 0; i < 2000; ++i) payload += "echo-me-" + std::to_string(i) + ";";
  pairs.Write(id, payload);
  pairs.CloseWrite(id);
  d.transport->Flush();
  CHECK((*loop)->RunUntil([&] { return closed; }, milliseconds(8000)));
  CHECK(got == payload);
  CHECK(peer.stream_types() == std::vector<std::string>{"error/5000/0", "data/5000/0"});
  bool ended = false;
  d.transport->SetCallbacks({[&](Status) { ended = true; }, nullptr});
  pairs.Close(id);
  d.transport->Close();
  CHECK((*loop)->RunUntil([&] { return ended; }, milliseconds(5000)));
}

TEST_CASE("ws tunnel: a text message from the server ends the tunnel with a protocol error") {
  REQUIRE(test::Pki().ok);
  TunnelPeer peer(Mode::kEchoThenText);
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  Dialed d = Dial(**loop, peer.port());
  REQUIRE(d.transport);
  std::optional<Status> end;
  d.transport->SetCallbacks({[&](Status s) { end = s; }, nullptr});
  portforward::StreamPairClient pairs(d.transport->connection());
  bool ready = false;
  portforward::ForwardCallbacks cb;
  cb.on_ready = [&] { ready = true; };
  auto id = pairs.Open(80, 80, cb);
  d.transport->Flush();
  REQUIRE((*loop)->RunUntil([&] { return ready; }, milliseconds(5000)));
  pairs.Write(id, "echo-me");
  d.transport->Flush();
  REQUIRE((*loop)->RunUntil([&] { return end.has_value(); }, milliseconds(5000)));
  REQUIRE_FALSE(end->ok());
  CHECK(end->error().code == ErrorCode::kProtocol);
  CHECK(end->error().message.find("text message") != std::string::npos);
}

TEST_CASE("ws tunnel: a pre-1.30 server's 400 is a handshake failure (the fallback case)") {
  REQUIRE(test::Pki().ok);
  TunnelPeer peer(Mode::kRefuse);
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  Dialed d = Dial(**loop, peer.port());
  CHECK_FALSE(d.transport);
  REQUIRE(d.failure.has_value());
  CHECK(d.failure->stage == FailureStage::kHandshake);
  FallbackDecision decision = DecideAfterFailure(StreamProtocol::kWebSocket, d.failure->stage,
                                                 d.failure->diagnosis, false, true);
  CHECK((decision.step == NextStep::kFallback || decision.step == NextStep::kFallbackWithHint));
}

// A blocking loopback client for the session tests (runs in its own thread): sends `msg`,
// returns what came back before EOF or `timeout_s`.
std::string Exchange(uint16_t port, const std::string& msg, int timeout_s = 5) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(msg.size())) {
    ::shutdown(fd, SHUT_WR);
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return got;
}

TEST_CASE("port-forward session: forwards over the tunnel and reconnects after a drop") {
  REQUIRE(test::Pki().ok);
  TunnelPeer peer(Mode::kDropOnMarker);
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  PortForwardSessionOptions o;
  o.target = Target(peer.port());
  o.ports = {{0, 5000}};
  o.addresses = {{"127.0.0.1", false, false}};
  o.order = {StreamProtocol::kWebSocket};
  o.handle_signals = false;
  o.reconnect_initial = milliseconds(100);
  std::atomic<bool> done{false};
  std::thread client;
  std::string first, dropped, after;
  uint16_t local = 0;
  std::function<void()> stop_fn;
  std::function<void()> poll = [&] {
    if (done) {
      stop_fn();
      return;
    }
    (*loop)->AddTimer(milliseconds(20), poll);
  };
  o.on_listening = [&](const std::vector<uint16_t>& ports, std::function<void()> stop) {
    local = ports.at(0);
    stop_fn = std::move(stop);
    client = std::thread([&, port = local] {
      first = Exchange(port, "hello");
      dropped = Exchange(port, "drop-me");
      // Connections made while the tunnel is down wait for the new one.
      after = Exchange(port, "again");
      done = true;
    });
    poll();
  };
  std::ostringstream out, diag;
  Status st = RunPortForwardSession(**loop, std::move(o), out, diag);
  client.join();
  CHECK(st.ok());
  CHECK(first == "hello");
  CHECK(dropped.find("drop-me") == std::string::npos);
  CHECK(after == "again");
  CHECK(peer.connections() == 2);
  std::string p = std::to_string(local);
  CHECK(out.str().rfind("Forwarding from 127.0.0.1:" + p + " -> 5000\n", 0) == 0);
  CHECK(out.str().find("Handling connection for " + p + "\n") != std::string::npos);
  CHECK(diag.str().find("kproxy: lost connection to the pod") != std::string::npos);
  CHECK(diag.str().find("reconnected to the pod over WebSocket tunnel") != std::string::npos);
}

TEST_CASE("port-forward session: silent SPDY fallback; a dead remote port fails only its conn") {
  REQUIRE(test::Pki().ok);
  TunnelPeer peer(Mode::kRefuse);
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  PortForwardSessionOptions o;
  o.target = Target(peer.port());
  o.ports = {{0, 5000}, {0, 9999}};
  o.addresses = {{"127.0.0.1", false, false}};
  o.order = {StreamProtocol::kWebSocket, StreamProtocol::kSpdy};
  o.handle_signals = false;
  std::atomic<bool> done{false};
  std::thread client;
  std::string one, dead, two;
  std::string protocol;
  std::function<void()> stop_fn;
  std::function<void()> poll = [&] {
    if (done) {
      stop_fn();
      return;
    }
    (*loop)->AddTimer(milliseconds(20), poll);
  };
  o.on_connected = [&](const std::string& p) { protocol = p; };
  o.on_listening = [&](const std::vector<uint16_t>& ports, std::function<void()> stop) {
    stop_fn = std::move(stop);
    client = std::thread([&, a = ports.at(0), b = ports.at(1)] {
      one = Exchange(a, "one");
      dead = Exchange(b, "nobody home");
      two = Exchange(a, "two");
      done = true;
    });
    poll();
  };
  std::ostringstream out, diag;
  Status st = RunPortForwardSession(**loop, std::move(o), out, diag);
  client.join();
  CHECK(st.ok());
  CHECK(protocol == "portforward.k8s.io");
  // The refused tunnel (re-issued once by WsClient to read the refusal's body), then SPDY.
  CHECK(peer.connections() == 3);
  CHECK(one == "one");
  CHECK(dead.empty());
  CHECK(two == "two");
  CHECK(diag.str().find("an error occurred forwarding") != std::string::npos);
  CHECK(diag.str().find("connection refused") != std::string::npos);
  // kubectl's silent fallback: the tunnel's 400 is not shown.
  CHECK(diag.str().find("port\" is required") == std::string::npos);
  auto types = peer.stream_types();
  REQUIRE(types.size() == 6);
  CHECK(types[0] == "error/5000/0");
  CHECK(types[2] == "error/9999/1");
  CHECK(types[5] == "data/5000/2");
}

}  // namespace
}  // namespace kproxy
