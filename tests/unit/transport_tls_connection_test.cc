#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>

#include "core/transport/event_loop.h"
#include "core/transport/tls_connection.h"
#include "tests/unit/transport_test_support.h"

namespace kproxy {
namespace {

using std::chrono::milliseconds;

DialTarget Target(int port, const std::string& scheme = "https",
                  const std::string& host = "127.0.0.1") {
  DialTarget t;
  t.server.scheme = scheme;
  t.server.host = host;
  t.server.port = static_cast<uint16_t>(port);
  t.tls.ca_pem = test::Pki().ca_pem;
  t.timeout = milliseconds(5000);
  return t;
}

// Dials, sends `payload`, and waits for the same number of bytes back (echo server).
struct Outcome {
  std::optional<Status> connected;
  std::string received;
  std::optional<Status> closed;
  DialFailure failure = DialFailure::kNone;
  std::string alpn;
};

Outcome RunEcho(EventLoop& loop, DialTarget target, const std::string& payload) {
  Outcome out;
  std::unique_ptr<TlsConnection> conn;
  conn = TlsConnection::Dial(
      loop, std::move(target),
      {[&](Status s) { out.connected = s; }, [&](std::string_view b) { out.received.append(b); },
       [&](Status s) { out.closed = s; }, nullptr});
  conn->Write(payload);  // queued while dialing
  loop.RunUntil(
      [&] {
        return (out.connected && !out.connected->ok()) || out.received.size() >= payload.size() ||
               out.closed.has_value();
      },
      milliseconds(8000));
  out.failure = conn->failure();
  out.alpn = conn->alpn();
  return out;
}

TEST_CASE("tls connection: verified handshake, ALPN http/1.1 only, SNI, echo of 1 MiB") {
  REQUIRE(test::Pki().ok);
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  test::TestTlsServer server({}, test::EchoHandler);
  std::string payload;
  for (int i = 0; i < (1 << 20); ++i) payload.push_back(static_cast<char>(i * 7));
  auto t = Target(server.port(), "https", "localhost");
  auto out = RunEcho(**loop, t, payload);
  REQUIRE(out.connected.has_value());
  CHECK(out.connected->ok());
  CHECK(out.received == payload);
  CHECK(out.alpn == "http/1.1");
  CHECK(server.offered_alpn() == "http/1.1");  // never h2 on an upgrade connection
  CHECK(server.sni() == "localhost");
}

TEST_CASE("tls connection: tls-server-name is the SNI and the verified name") {
  REQUIRE(test::Pki().ok);
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  test::TestTlsServer server({}, test::EchoHandler);
  auto t = Target(server.port());
  t.tls.server_name = "kproxy.test";
  auto out = RunEcho(**loop, t, "ping");
  REQUIRE(out.connected.has_value());
  CHECK(out.connected->ok());
  CHECK(out.received == "ping");
  CHECK(server.sni() == "kproxy.test");

  t.tls.server_name = "wrong.example";
  auto bad = RunEcho(**loop, t, "ping");
  REQUIRE(bad.connected.has_value());
  CHECK_FALSE(bad.connected->ok());
  CHECK(bad.failure == DialFailure::kVerify);
  CHECK(bad.connected->error().message.find("hostname mismatch") != std::string::npos);
}

TEST_CASE("tls connection: wrong CA is a one-line verify error naming the server") {
  REQUIRE(test::Pki().ok);
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  test::TestTlsServer server({}, test::EchoHandler);
  auto t = Target(server.port());
  t.tls.ca_pem = test::Pki().other_ca_pem;
  auto out = RunEcho(**loop, t, "x");
  REQUIRE(out.connected.has_value());
  REQUIRE_FALSE(out.connected->ok());
  CHECK(out.failure == DialFailure::kVerify);
  const std::string& m = out.connected->error().message;
  CHECK(m.find("127.0.0.1:" + std::to_string(server.port())) != std::string::npos);
  CHECK(m.find("certificate verify failed") != std::string::npos);
  CHECK(m.find('\n') == std::string::npos);

  // insecure-skip-tls-verify accepts it.
  t.tls.insecure = true;
  auto ok = RunEcho(**loop, t, "x");
  CHECK(ok.connected->ok());
  CHECK(ok.received == "x");

  t.tls.insecure = false;
  t.tls.ca_pem = "not a pem";
  auto junk = RunEcho(**loop, t, "x");
  REQUIRE_FALSE(junk.connected->ok());
  CHECK(junk.connected->error().code == ErrorCode::kConfig);
}

TEST_CASE("tls connection: client certificate required by the server") {
  REQUIRE(test::Pki().ok);
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  test::TestTlsServer server({true, test::TestTlsServer::Alpn::kHonour, true}, test::EchoHandler);
  auto t = Target(server.port());
  // Without a client certificate: TLS 1.3 reports the refusal after the client's handshake,
  // as an alert on the first read; either way the caller sees a failure, never data.
  auto none = RunEcho(**loop, t, "hello");
  bool refused = (none.connected && !none.connected->ok()) || (none.closed && !none.closed->ok());
  CHECK(refused);
  CHECK(none.received.empty());

  t.tls.client_cert_pem = test::Pki().client_cert_pem;
  t.tls.client_key_pem = test::Pki().client_key_pem;
  auto with = RunEcho(**loop, t, "hello");
  REQUIRE(with.connected.has_value());
  CHECK(with.connected->ok());
  CHECK(with.received == "hello");

  t.tls.client_key_pem = test::Pki().server_key_pem;  // a key of another certificate
  auto mismatch = RunEcho(**loop, t, "hello");
  REQUIRE_FALSE(mismatch.connected->ok());
  CHECK(mismatch.connected->error().message.find("do not match") != std::string::npos);
}

TEST_CASE("tls connection: h2 chosen by the peer is a distinct error") {
  REQUIRE(test::Pki().ok);
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  {
    test::TestTlsServer strict({true, test::TestTlsServer::Alpn::kRefuse, false},
                               test::EchoHandler);
    auto out = RunEcho(**loop, Target(strict.port()), "x");
    REQUIRE(out.connected.has_value());
    REQUIRE_FALSE(out.connected->ok());
    CHECK(out.failure == DialFailure::kAlpnH2);
    CHECK(out.connected->error().code == ErrorCode::kUpgradeRejected);
  }
  {
    test::TestTlsServer forced({true, test::TestTlsServer::Alpn::kForceH2, false},
                               test::EchoHandler);
    auto out = RunEcho(**loop, Target(forced.port()), "x");
    REQUIRE(out.connected.has_value());
    REQUIRE_FALSE(out.connected->ok());
    // OpenSSL itself may reject an unoffered ALPN choice; ours reports h2 when it gets one.
    CHECK((out.failure == DialFailure::kAlpnH2 || out.failure == DialFailure::kTls));
    MESSAGE("forced h2: " << out.connected->error().message);
  }
}

TEST_CASE("tls connection: plain TCP for http:// servers, clean EOF reported") {
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  test::TestTlsServer server({false}, [](SSL*, int fd) {
    char buf[5];
    if (read(fd, buf, 5) == 5) [[maybe_unused]]
      auto n = write(fd, "pong!", 5);
  });
  Outcome out;
  auto conn = TlsConnection::Dial(
      **loop, Target(server.port(), "http"),
      {[&](Status s) { out.connected = s; }, [&](std::string_view b) { out.received.append(b); },
       [&](Status s) { out.closed = s; }, nullptr});
  conn->Write("ping!");
  CHECK((*loop)->RunUntil([&] { return out.closed.has_value(); }, milliseconds(5000)));
  CHECK(out.received == "pong!");
  REQUIRE(out.closed.has_value());
  CHECK(out.closed->ok());
}

TEST_CASE("tls connection: TCP refused and DNS failures name the server") {
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  int port = 0;
  int fd = test::ListenLoopback(&port);
  close(fd);  // nothing listens there now
  auto out = RunEcho(**loop, Target(port), "x");
  REQUIRE(out.connected.has_value());
  REQUIRE_FALSE(out.connected->ok());
  CHECK(out.failure == DialFailure::kTcp);
  CHECK(out.connected->error().code == ErrorCode::kUnavailable);
  CHECK(out.connected->error().message == "unable to connect to the server 127.0.0.1:" +
                                              std::to_string(port) + ": Connection refused");

  auto dns = RunEcho(**loop, Target(443, "https", "no-such-host.invalid"), "x");
  REQUIRE(dns.connected.has_value());
  REQUIRE_FALSE(dns.connected->ok());
  CHECK(dns.failure == DialFailure::kDns);
  CHECK(dns.connected->error().message.find("no-such-host.invalid") != std::string::npos);
}

TEST_CASE("tls connection: dial timeout") {
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  // A listener that never completes TLS: the handshake waits until the dial deadline.
  int port = 0;
  int lfd = test::ListenLoopback(&port);
  auto t = Target(port);
  t.timeout = milliseconds(200);
  auto start = EventLoop::Clock::now();
  auto out = RunEcho(**loop, t, "x");
  REQUIRE(out.connected.has_value());
  CHECK_FALSE(out.connected->ok());
  CHECK(out.failure == DialFailure::kTimeout);
  CHECK(EventLoop::Clock::now() - start < milliseconds(3000));
  close(lfd);
}

TEST_CASE("tls connection: through an HTTP CONNECT proxy (tinyproxy)") {
  REQUIRE(test::Pki().ok);
  test::TinyProxy proxy;
  REQUIRE(proxy.ready());
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  test::TestTlsServer server({}, test::EchoHandler);
  RestConfig rc;
  rc.server = "https://localhost:" + std::to_string(server.port());
  rc.ca_data = test::Pki().ca_pem;
  rc.proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port());
  auto t = DialTargetFromRestConfig(rc, [](const char*) -> const char* { return nullptr; });
  REQUIRE(t.ok());
  REQUIRE(t->proxy.has_value());
  auto out = RunEcho(**loop, *t, "through the tunnel");
  REQUIRE(out.connected.has_value());
  CHECK(out.connected->ok());
  CHECK(out.received == "through the tunnel");
  CHECK(server.sni() == "localhost");  // TLS is end to end, above the tunnel

  // The proxy refuses CONNECT to a closed port: a proxy dial failure, named as such.
  int closed_port = 0;
  close(test::ListenLoopback(&closed_port));
  rc.server = "https://localhost:" + std::to_string(closed_port);
  auto t2 = DialTargetFromRestConfig(rc, [](const char*) -> const char* { return nullptr; });
  auto refused = RunEcho(**loop, *t2, "x");
  REQUIRE(refused.connected.has_value());
  REQUIRE_FALSE(refused.connected->ok());
  CHECK(refused.failure == DialFailure::kProxy);
  CHECK(refused.connected->error().message.find("refused CONNECT") != std::string::npos);
}

}  // namespace
}  // namespace kproxy
