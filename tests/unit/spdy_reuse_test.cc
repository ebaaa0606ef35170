// The SPDY upgrade on the lookups' kept-alive connection (core/rest/loop_http_client
// TakeIdleConnection → UpgradeTarget::take_idle → DialSpdy): against a raw TLS peer on
// 127.0.0.1 that writes exact bytes and counts handshakes, so "one connection" is what the
// server saw, not what our client believes.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/rest/loop_http_client.h"
#include "core/session/stream_transport.h"
#include "tests/unit/transport_test_support.h"

namespace kproxy {
namespace {

using test::HeaderValue;
using test::Pki;
using test::ReadHead;
using test::SslWriteAll;
using test::TestTlsServer;

constexpr char kPod[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
constexpr char kSwitch[] =
    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
    "X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n";

struct Rig {
  std::unique_ptr<EventLoop> loop;
  RestConfig config;
  std::unique_ptr<HttpClient> client;
  int taken = 0;  // connections the dialer got handed over

  explicit Rig(int port) {
    REQUIRE(Pki().ok);
    auto l = EventLoop::Create();
    REQUIRE(l.ok());
    loop = std::move(*l);
    config.server = "https://127.0.0.1:" + std::to_string(port);
    config.ca_data = Pki().ca_pem;
    config.timeout = std::chrono::seconds(5);
    LoopHttpClientOptions o;
    o.getenv = [](const char*) -> const char* { return nullptr; };
    client = MakeLoopHttpClient(*loop, config, o);
  }

  UpgradeTarget Target() {
    UpgradeTarget t;
    auto d = DialTargetFromRestConfig(config, [](const char*) -> const char* { return nullptr; });
    REQUIRE(d.ok());
    t.dial = std::move(*d);
    t.path_and_query = "/api/v1/namespaces/default/pods/web/exec?command=true&stdout=true";
    t.user_agent = "kproxy-test kubernetes/test";
    t.headers = {{"Authorization", "Bearer upgrade-token"}};
    t.take_idle = [this](const DialTarget& d, TlsConnection::Callbacks cb) {
      auto conn = TakeIdleConnection(*client, d, std::move(cb));
      if (conn) ++taken;
      return conn;
    };
    return t;
  }

  // Runs DialSpdy to its end; returns the transport or the error (`failure` gets the details).
  Result<std::unique_ptr<StreamTransport>> Dial(const UpgradeTarget& t,
                                                AttemptFailure* failure = nullptr) {
    std::optional<Result<std::unique_ptr<StreamTransport>>> out;
    auto pending = DialSpdy(*loop, t, {"v4.channel.k8s.io"}, RefusalContext{},
                            [&](Result<std::unique_ptr<StreamTransport>> r, AttemptFailure f) {
                              out.emplace(std::move(r));
                              if (failure) *failure = std::move(f);
                            });
    bool finished = loop->RunUntil([&] { return out.has_value(); }, std::chrono::seconds(4));
    REQUIRE(finished);
    return std::move(*out);
  }
};

// Reads until the client closes (the SPDY session's GOAWAY and the socket's end).
void DrainUntilClose(SSL* ssl) {
  char buf[512];
  while (SSL_read(ssl, buf, sizeof buf) > 0) {
  }
}

TEST_CASE("spdy reuse: the upgrade goes out on the lookup's kept-alive connection") {
  std::vector<std::string> heads;
  std::mutex mu;
  TestTlsServer server({}, [&](SSL* ssl, int) {
    for (int i = 0; i < 2; ++i) {
      std::string head = ReadHead(ssl);
      if (head.empty()) return;
      {
        std::lock_guard<std::mutex> l(mu);
        heads.push_back(head);
      }
      SslWriteAll(ssl, HeaderValue(head, "upgrade").empty() ? kPod : kSwitch);
    }
    DrainUntilClose(ssl);
  });
  Rig rig(server.port());
  HttpRequest get;
  get.path = "/api/v1/namespaces/default/pods/web";
  auto pod = rig.client->Do(get);
  REQUIRE_MESSAGE(pod.ok(), pod.error().message);
  CHECK(pod->status == 200);

  auto t = rig.Dial(rig.Target());
  REQUIRE_MESSAGE(t.ok(), t.error().message);
  CHECK((*t)->kind() == StreamProtocol::kSpdy);
  CHECK((*t)->negotiated() == "v4.channel.k8s.io");
  CHECK(rig.taken == 1);
  CHECK(server.handshakes_ok() == 1);  // one accept, one TLS handshake for lookup + upgrade
  {
    std::lock_guard<std::mutex> l(mu);
    REQUIRE(heads.size() == 2);
    CHECK_MESSAGE(heads[1].rfind("POST /api/v1/namespaces/default/pods/web/exec?", 0) == 0,
                  heads[1]);
    CHECK(HeaderValue(heads[1], "upgrade") == "SPDY/3.1");
    // Headers are per request: the upgrade carries its own credential.
    CHECK(HeaderValue(heads[1], "authorization") == "Bearer upgrade-token");
  }
  (*t)->Close();
  // The lookup client gave the connection away: its next request dials anew (and the
  // serial test server is free again once the session's socket closed).
  t->reset();
}

TEST_CASE("spdy reuse: an idle connection the server closed falls back to a fresh dial") {
  std::atomic<int> conns{0};
  std::vector<std::string> upgrades;
  std::mutex mu;
  TestTlsServer server({}, [&](SSL* ssl, int) {
    int n = ++conns;
    std::string head = ReadHead(ssl);
    if (head.empty()) return;
    if (n == 1) {
      // Keep-alive promised, then the idle connection is closed anyway (server idle timeout),
      // after the client has taken the response (else both arrive in one read).
      SslWriteAll(ssl, kPod);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      return;
    }
    {
      std::lock_guard<std::mutex> l(mu);
      upgrades.push_back(head);
    }
    SslWriteAll(ssl, kSwitch);
    DrainUntilClose(ssl);
  });
  Rig rig(server.port());
  HttpRequest get;
  get.path = "/api/v1/namespaces/default/pods/web";
  REQUIRE(rig.client->Do(get).ok());
  // The close reaches our socket while the loop is not running, so the client still believes
  // the connection idle and hands it over: the write or the EOF then fails the reused attempt
  // before any response byte, and the dialer redials once.
  std::this_thread::sleep_for(std::chrono::milliseconds(250));

  auto t = rig.Dial(rig.Target());
  REQUIRE_MESSAGE(t.ok(), t.error().message);
  CHECK((*t)->negotiated() == "v4.channel.k8s.io");
  CHECK(rig.taken == 1);
  CHECK(server.handshakes_ok() == 2);
  {
    std::lock_guard<std::mutex> l(mu);
    REQUIRE(upgrades.size() == 1);
    CHECK(HeaderValue(upgrades[0], "upgrade") == "SPDY/3.1");
  }
  (*t)->Close();
}

TEST_CASE("spdy reuse: a refusal on the reused connection reaches the classifier whole") {
  TestTlsServer server({}, [&](SSL* ssl, int) {
    for (int i = 0; i < 2; ++i) {
      std::string head = ReadHead(ssl);
      if (head.empty()) return;
      if (HeaderValue(head, "upgrade").empty()) {
        SslWriteAll(ssl, kPod);
        continue;
      }
      const std::string body =
          "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":"
          "\"pods \\\"web\\\" is forbidden: User \\\"jane\\\" cannot create resource "
          "\\\"pods/exec\\\" in API group \\\"\\\" in the namespace \\\"default\\\"\","
          "\"reason\":\"Forbidden\",\"code\":403}";
      SslWriteAll(ssl,
                  "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
                  "X-Request-Id: req-9\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body);
      DrainUntilClose(ssl);
      return;
    }
  });
  Rig rig(server.port());
  HttpRequest get;
  get.path = "/p";
  REQUIRE(rig.client->Do(get).ok());
  AttemptFailure failure;
  auto t = rig.Dial(rig.Target(), &failure);
  REQUIRE_FALSE(t.ok());
  CHECK(rig.taken == 1);
  CHECK(server.handshakes_ok() == 1);
  CHECK(failure.stage == FailureStage::kHandshake);
  CHECK(failure.diagnosis.code == ErrorCode::kForbidden);
  CHECK(failure.diagnosis.request_id == "req-9");
  CHECK_MESSAGE(
      failure.diagnosis.headline.find("cannot create resource \"pods/exec\"") != std::string::npos,
      failure.diagnosis.headline);
}

TEST_CASE("spdy reuse: a closed idle connection seen by the loop is not handed over") {
  std::atomic<int> conns{0};
  TestTlsServer server({}, [&](SSL* ssl, int) {
    int n = ++conns;
    if (ReadHead(ssl).empty()) return;
    if (n == 1) {
      SslWriteAll(ssl, kPod);
      return;
    }
    SslWriteAll(ssl, kSwitch);
    DrainUntilClose(ssl);
  });
  Rig rig(server.port());
  HttpRequest get;
  get.path = "/p";
  REQUIRE(rig.client->Do(get).ok());
  // Let the loop deliver the server's close to the lookup client first.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  rig.loop->RunUntil([] { return false; }, std::chrono::milliseconds(100));
  auto t = rig.Dial(rig.Target());
  REQUIRE_MESSAGE(t.ok(), t.error().message);
  CHECK(rig.taken == 0);
  CHECK(server.handshakes_ok() == 2);
  (*t)->Close();
}

TEST_CASE("spdy reuse: a different dial target (TLS settings, server) gets a fresh connection") {
  TestTlsServer server({}, [&](SSL* ssl, int) {
    for (int i = 0; i < 2; ++i) {
      std::string head = ReadHead(ssl);
      if (head.empty()) return;
      if (!HeaderValue(head, "upgrade").empty()) {
        SslWriteAll(ssl, kSwitch);
        DrainUntilClose(ssl);
        return;
      }
      SslWriteAll(ssl, kPod);
    }
  });
  Rig rig(server.port());
  HttpRequest get;
  get.path = "/p";
  REQUIRE(rig.client->Do(get).ok());
  UpgradeTarget other = rig.Target();
  other.dial.tls.server_name = "localhost";  // another verified name: not the same connection
  CHECK(TakeIdleConnection(*rig.client, other.dial, {}) == nullptr);
  other = rig.Target();
  other.dial.server.port = static_cast<uint16_t>(server.port() + 1);
  CHECK(TakeIdleConnection(*rig.client, other.dial, {}) == nullptr);
  other = rig.Target();
  other.dial.tls.alpn = {"h2", "http/1.1"};
  CHECK(TakeIdleConnection(*rig.client, other.dial, {}) == nullptr);
  // The connection stayed with the lookup client: the next GET reuses it.
  REQUIRE(rig.client->Do(get).ok());
  CHECK(server.handshakes_ok() == 1);
}

}  // namespace
}  // namespace kproxy
