#include <doctest/doctest.h>
#include <poll.h>
#include <sys/wait.h>

#include <chrono>
#include <optional>
#include <string>

#include "core/transport/event_loop.h"
#include "core/transport/tls_connection.h"
#include "tests/unit/transport_test_support.h"

namespace kproxy {
namespace {

using std::chrono::milliseconds;

using test::TlsTarget;

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
  auto t = TlsTarget(server.port(), "https", "localhost");
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
  auto t = TlsTarget(server.port());
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
  auto t = TlsTarget(server.port());
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
  auto t = TlsTarget(server.port());
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
    auto out = RunEcho(**loop, TlsTarget(strict.port()), "x");
    REQUIRE(out.connected.has_value());
    REQUIRE_FALSE(out.connected->ok());
    CHECK(out.failure == DialFailure::kAlpnH2);
    CHECK(out.connected->error().code == ErrorCode::kUpgradeRejected);
  }
  {
    test::TestTlsServer forced({true, test::TestTlsServer::Alpn::kForceH2, false},
                               test::EchoHandler);
    auto out = RunEcho(**loop, TlsTarget(forced.port()), "x");
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
      **loop, TlsTarget(server.port(), "http"),
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
  auto out = RunEcho(**loop, TlsTarget(port), "x");
  REQUIRE(out.connected.has_value());
  REQUIRE_FALSE(out.connected->ok());
  CHECK(out.failure == DialFailure::kTcp);
  CHECK(out.connected->error().code == ErrorCode::kUnavailable);
  CHECK(out.connected->error().message == "unable to connect to the server 127.0.0.1:" +
                                              std::to_string(port) + ": Connection refused");

  auto dns = RunEcho(**loop, TlsTarget(443, "https", "no-such-host.invalid"), "x");
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
  auto t = TlsTarget(port);
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

namespace kproxy {
namespace {

// `openssl s_server` in a child process (bounded by -naccept and a kill at the end).
class SServer {
 public:
  explicit SServer(const std::vector<std::string>& extra) {
    const auto& dir = test::Pki().dir;
    std::vector<std::string> args = {"openssl",  "s_server",
                                     "-accept",  "127.0.0.1:0",
                                     "-cert",    (dir / "server.crt").string(),
                                     "-key",     (dir / "server.key").string(),
                                     "-naccept", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    int out[2], in[2];
    if (pipe(out) != 0 || pipe(in) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      // s_server ends the session when its stdin hits EOF: give it one that stays open.
      dup2(in[0], 0);
      dup2(out[1], 1);
      dup2(out[1], 2);
      close(out[0]);
      close(in[1]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp("openssl", argv.data());
      _exit(127);
    }
    close(out[1]);
    close(in[0]);
    in_fd_ = in[1];
    // "ACCEPT 127.0.0.1:<port>" arrives first; bounded wait.
    std::string text;
    char c;
    for (int i = 0; i < 400 && text.find("ACCEPT") == std::string::npos; ++i) {
      pollfd p{out[0], POLLIN, 0};
      if (poll(&p, 1, 10) != 1) continue;
      while (read(out[0], &c, 1) == 1 && c != '\n') text.push_back(c);
      if (text.find("ACCEPT") == std::string::npos) text.clear();
    }
    out_fd_ = out[0];
    size_t colon = text.rfind(':');
    if (colon != std::string::npos) port_ = std::atoi(text.c_str() + colon + 1);
  }
  ~SServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) close(out_fd_);
    if (in_fd_ >= 0) close(in_fd_);
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int out_fd_ = -1;
  int in_fd_ = -1;
};

Outcome ConnectOnly(EventLoop& loop, DialTarget t) {
  Outcome out;
  auto conn = TlsConnection::Dial(
      loop, std::move(t),
      {[&](Status s) { out.connected = s; }, nullptr, [&](Status s) { out.closed = s; }, nullptr});
  loop.RunUntil([&] { return out.connected.has_value(); }, milliseconds(5000));
  out.failure = conn->failure();
  out.alpn = conn->alpn();
  return out;
}

TEST_CASE("tls connection: interop with openssl s_server (ALPN, client certificates)") {
  REQUIRE(test::Pki().ok);
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  {
    SServer s({"-alpn", "http/1.1"});
    REQUIRE(s.port() > 0);
    auto out = ConnectOnly(**loop, TlsTarget(s.port(), "https", "localhost"));
    REQUIRE(out.connected.has_value());
    CHECK_MESSAGE(out.connected->ok(), out.connected->error().message);
    CHECK(out.alpn == "http/1.1");
  }
  {
    // s_server -alpn h2 refuses a client offering only http/1.1 with no_application_protocol,
    // as strict HTTP/2-only front ends do: the distinct h2 report.
    SServer s({"-alpn", "h2"});
    REQUIRE(s.port() > 0);
    auto out = ConnectOnly(**loop, TlsTarget(s.port(), "https", "localhost"));
    REQUIRE(out.connected.has_value());
    REQUIRE_FALSE(out.connected->ok());
    CHECK(out.failure == DialFailure::kAlpnH2);
    CHECK(out.connected->error().code == ErrorCode::kUpgradeRejected);
    CHECK(out.connected->error().message.find("HTTP/2") != std::string::npos);
  }
  {
    SServer s({"-Verify", "1", "-CAfile", (test::Pki().dir / "ca.crt").string()});
    REQUIRE(s.port() > 0);
    auto t = TlsTarget(s.port(), "https", "localhost");
    t.tls.client_cert_pem = test::Pki().client_cert_pem;
    t.tls.client_key_pem = test::Pki().client_key_pem;
    auto out = ConnectOnly(**loop, t);
    REQUIRE(out.connected.has_value());
    CHECK(out.connected->ok());
  }
  {
    SServer s({"-tls1_2", "-Verify", "1", "-CAfile", (test::Pki().dir / "ca.crt").string()});
    REQUIRE(s.port() > 0);
    // TLS 1.2: the missing client certificate fails the handshake itself.
    auto out = ConnectOnly(**loop, TlsTarget(s.port(), "https", "localhost"));
    REQUIRE(out.connected.has_value());
    CHECK_FALSE(out.connected->ok());
    CHECK(out.failure == DialFailure::kTls);
    CHECK(out.connected->error().message.find("localhost:" + std::to_string(s.port())) !=
          std::string::npos);
  }
}

}  // namespace
}  // namespace kproxy
