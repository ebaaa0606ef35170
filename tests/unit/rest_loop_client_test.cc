// The event-loop HTTP client (core/rest/loop_http_client) against raw TLS peers on 127.0.0.1
// (tests/unit/transport_test_support.h: blocking OpenSSL servers that write exact bytes), so
// framing — chunked, Content-Length, until-close, keep-alive — is what a server really sends,
// not what our own encoder would produce.
#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <vector>

#include "core/rest/curl_library.h"
#include "core/rest/loop_http_client.h"
#include "tests/unit/transport_test_support.h"

namespace kproxy {
namespace {

using test::HeaderValue;
using test::Pki;
using test::ReadHead;
using test::SslWriteAll;
using test::TestTlsServer;

RestConfig ConfigFor(int port) {
  RestConfig c;
  c.server = "https://127.0.0.1:" + std::to_string(port);
  c.ca_data = Pki().ca_pem;
  c.timeout = std::chrono::seconds(5);
  return c;
}

// No environment proxy leaks into a test.
LoopHttpClientOptions NoEnv() {
  LoopHttpClientOptions o;
  o.getenv = [](const char*) -> const char* { return nullptr; };
  return o;
}

struct Fixture {
  std::unique_ptr<EventLoop> loop;
  Fixture() {
    REQUIRE(Pki().ok);
    auto l = EventLoop::Create();
    REQUIRE(l.ok());
    loop = std::move(*l);
  }
};

HttpRequest Get(std::string path) {
  HttpRequest r;
  r.path = std::move(path);
  return r;
}

// Serves `n` requests on one connection with `reply`, recording each head.
TestTlsServer::Handler Serve(int n, std::string reply, std::vector<std::string>* heads,
                             std::mutex* mu) {
  return [=](SSL* ssl, int) {
    for (int i = 0; i < n; ++i) {
      std::string head = ReadHead(ssl);
      if (head.empty()) return;
      {
        std::lock_guard<std::mutex> l(*mu);
        heads->push_back(head);
      }
      SslWriteAll(ssl, reply);
    }
  };
}

TEST_CASE(
    "loop client: GET sends Host, User-Agent, Accept, bearer and impersonation; keeps alive") {
  Fixture f;
  std::vector<std::string> heads;
  std::mutex mu;
  TestTlsServer server({}, Serve(2,
                                 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 "X-Request-Id: r-1\r\nContent-Length: 16\r\n\r\n"
                                 "{\"kind\":\"Pod\"}\r\n",
                                 &heads, &mu));
  RestConfig c = ConfigFor(server.port());
  c.bearer_token = "tok-abc";
  c.impersonate_user = "bob";
  c.impersonate_groups = {"g1", "g2"};
  auto client = MakeLoopHttpClient(*f.loop, c, NoEnv());
  auto r = client->Do(Get("/api/v1/namespaces/default/pods/web"));
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK(r->status == 200);
  CHECK(r->body == "{\"kind\":\"Pod\"}\r\n");
  CHECK(r->Header("x-request-id") == "r-1");
  auto r2 = client->Do(Get("/api/v1/namespaces/default/pods/db"));
  REQUIRE_MESSAGE(r2.ok(), r2.error().message);
  CHECK(r2->status == 200);
  CHECK(server.handshakes_ok() == 1);  // the second request reused the connection
  std::lock_guard<std::mutex> l(mu);
  REQUIRE(heads.size() == 2);
  const std::string& h = heads[0];
  CHECK(h.rfind("GET /api/v1/namespaces/default/pods/web HTTP/1.1\r\n", 0) == 0);
  CHECK(HeaderValue(h, "host") == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(HeaderValue(h, "authorization") == "Bearer tok-abc");
  CHECK(HeaderValue(h, "accept") == "application/json, */*");
  CHECK(HeaderValue(h, "user-agent").find("kubernetes/") != std::string::npos);
  CHECK(HeaderValue(h, "impersonate-user") == "bob");
  CHECK(h.find("Impersonate-Group: g1\r\nImpersonate-Group: g2\r\n") != std::string::npos);
  CHECK(heads[1].rfind("GET /api/v1/namespaces/default/pods/db HTTP/1.1\r\n", 0) == 0);
  CHECK(server.offered_alpn() == "http/1.1");
}

TEST_CASE("loop client: a chunked body is reassembled, also when split across TLS records") {
  Fixture f;
  TestTlsServer server({}, [](SSL* ssl, int) {
    ReadHead(ssl);
    SslWriteAll(ssl, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
    SslWriteAll(ssl, "lo\r\n1;ext=1\r\n,\r\n");
    SslWriteAll(ssl, "6\r\n world\r\n0\r\nTrailer: x\r\n\r\n");
  });
  auto r = MakeLoopHttpClient(*f.loop, ConfigFor(server.port()), NoEnv())->Do(Get("/version"));
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK(r->status == 200);
  CHECK(r->body == "hello, world");
}

TEST_CASE("loop client: a body delimited by close is complete; the next request redials") {
  Fixture f;
  TestTlsServer server({}, [](SSL* ssl, int) {
    ReadHead(ssl);
    SslWriteAll(ssl, "HTTP/1.0 200 OK\r\n\r\nuntil the end");
  });
  auto client = MakeLoopHttpClient(*f.loop, ConfigFor(server.port()), NoEnv());
  for (int i = 0; i < 2; ++i) {
    auto r = client->Do(Get("/x"));
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    CHECK(r->body == "until the end");
  }
  CHECK(server.handshakes_ok() == 2);
}

TEST_CASE("loop client: a kept connection the server closed is redialed once") {
  Fixture f;
  std::atomic<int> served{0};
  TestTlsServer server({}, [&served](SSL* ssl, int) {
    ReadHead(ssl);
    ++served;
    // Keep-alive in the response, then the server closes anyway (idle timeout).
    SslWriteAll(ssl, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  auto client = MakeLoopHttpClient(*f.loop, ConfigFor(server.port()), NoEnv());
  REQUIRE(client->Do(Get("/a")).ok());
  auto r = client->Do(Get("/b"));
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK(r->body == "ok");
  CHECK(served == 2);
  CHECK(server.handshakes_ok() == 2);
}

TEST_CASE("loop client: 401 and 403 are responses with status, headers and body") {
  Fixture f;
  std::atomic<int> n{0};
  TestTlsServer server({}, [&n](SSL* ssl, int) {
    while (!ReadHead(ssl).empty()) {
      if (n++ == 0) {
        SslWriteAll(ssl,
                    "HTTP/1.1 401 Unauthorized\r\nWww-Authenticate: Bearer\r\n"
                    "Content-Length: 12\r\n\r\nUnauthorized");
      } else {
        std::string body = R"({"kind":"Status","reason":"Forbidden","code":403})";
        SslWriteAll(ssl,
                    "HTTP/1.1 403 Forbidden\r\nX-Request-Id: abc-123\r\nX-Pomerium-"
                    "Intercepted-Response: true\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body);
      }
    }
  });
  auto client = MakeLoopHttpClient(*f.loop, ConfigFor(server.port()), NoEnv());
  auto a = client->Do(Get("/a"));
  REQUIRE(a.ok());
  CHECK(a->status == 401);
  CHECK(a->Header("WWW-Authenticate") == "Bearer");
  CHECK(a->body == "Unauthorized");
  auto b = client->Do(Get("/b"));
  REQUIRE(b.ok());
  CHECK(b->status == 403);
  CHECK(b->Header("x-request-id") == "abc-123");
  CHECK(b->Header("X-Pomerium-Intercepted-Response") == "true");
  CHECK(b->body == R"({"kind":"Status","reason":"Forbidden","code":403})");
}

TEST_CASE("loop client: POST carries Content-Length and the body; basic auth; path prefix") {
  Fixture f;
  std::string head, body;
  TestTlsServer server({}, [&](SSL* ssl, int) {
    head = ReadHead(ssl);
    char buf[64];
    int n = SSL_read(ssl, buf, sizeof buf);
    if (n > 0) body.assign(buf, static_cast<size_t>(n));
    SslWriteAll(ssl, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
  });
  RestConfig c = ConfigFor(server.port());
  c.server += "/k8s/clusters/c-1/";
  c.username = "jane";
  c.password = "s3cret";
  HttpRequest req;
  req.method = "POST";
  req.path = "/api/v1/things";
  req.body = "{\"a\":1}";
  req.headers = {{"Content-Type", "application/json"}};
  auto r = MakeLoopHttpClient(*f.loop, c, NoEnv())->Do(req);
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK(r->status == 201);
  CHECK(r->body.empty());
  CHECK(head.rfind("POST /k8s/clusters/c-1/api/v1/things HTTP/1.1\r\n", 0) == 0);
  CHECK(HeaderValue(head, "content-length") == "7");
  CHECK(HeaderValue(head, "authorization") == "Basic amFuZTpzM2NyZXQ=");  // base64 jane:s3cret
  CHECK(body == "{\"a\":1}");
}

TEST_CASE("loop client: authenticate=false sends neither credentials nor impersonation") {
  Fixture f;
  std::string head;
  TestTlsServer server({}, [&](SSL* ssl, int) {
    head = ReadHead(ssl);
    SslWriteAll(ssl, "HTTP/1.1 204 No Content\r\n\r\n");
  });
  RestConfig c = ConfigFor(server.port());
  c.bearer_token = "secret";
  c.impersonate_user = "bob";
  HttpRequest req = Get("/login");
  req.authenticate = false;
  auto r = MakeLoopHttpClient(*f.loop, c, NoEnv())->Do(req);
  REQUIRE(r.ok());
  CHECK(r->status == 204);
  CHECK(HeaderValue(head, "authorization").empty());
  CHECK(HeaderValue(head, "impersonate-user").empty());
}

TEST_CASE("loop client: tls-server-name is the SNI and verified name; Host stays the URL's") {
  Fixture f;
  std::string head;
  TestTlsServer server({}, [&](SSL* ssl, int) {
    head = ReadHead(ssl);
    SslWriteAll(ssl, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  });
  RestConfig c = ConfigFor(server.port());
  c.tls_server_name = "kproxy.test";
  auto r = MakeLoopHttpClient(*f.loop, c, NoEnv())->Do(Get("/"));
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK(server.sni() == "kproxy.test");
  CHECK(HeaderValue(head, "host") == "127.0.0.1:" + std::to_string(server.port()));
}

TEST_CASE("loop client: a client certificate is presented when the server requires one") {
  Fixture f;
  TestTlsServer::Options o;
  o.require_client_cert = true;
  TestTlsServer server(o, [](SSL* ssl, int) {
    ReadHead(ssl);
    SslWriteAll(ssl, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
  });
  RestConfig c = ConfigFor(server.port());
  c.client_cert_data = Pki().client_cert_pem;
  c.client_key_data = Pki().client_key_pem;
  auto r = MakeLoopHttpClient(*f.loop, c, NoEnv())->Do(Get("/"));
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK(r->body == "hi");
}

TEST_CASE("loop client: a wrong CA is one clear kUnavailable line; insecure skips the check") {
  Fixture f;
  TestTlsServer server({}, [](SSL* ssl, int) {
    if (ReadHead(ssl).empty()) return;
    SslWriteAll(ssl, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  });
  RestConfig c = ConfigFor(server.port());
  c.ca_data = Pki().other_ca_pem;
  auto r = MakeLoopHttpClient(*f.loop, c, NoEnv())->Do(Get("/"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(r.error().message.rfind(
            "Unable to connect to the server https://127.0.0.1:" + std::to_string(server.port()) +
                ": TLS: the server's certificate could not be verified (",
            0) == 0);
  CHECK(r.error().message.find('\n') == std::string::npos);
  c.ca_data.clear();
  c.insecure_skip_tls_verify = true;
  auto ok = MakeLoopHttpClient(*f.loop, c, NoEnv())->Do(Get("/"));
  REQUIRE_MESSAGE(ok.ok(), ok.error().message);
  CHECK(ok->status == 200);
}

TEST_CASE("loop client: an HTTP/2-only front end is refused like an HTTP/2 upgrade (82), explained") {
  Fixture f;
  TestTlsServer::Options o;
  o.alpn = TestTlsServer::Alpn::kRefuse;
  TestTlsServer server(o, [](SSL*, int) {});
  auto r = MakeLoopHttpClient(*f.loop, ConfigFor(server.port()), NoEnv())->Do(Get("/"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kUpgradeRejected);
  CHECK(r.error().message.rfind("Unable to connect to the server https://127.0.0.1:", 0) == 0);
  CHECK(r.error().message.find("HTTP/2") != std::string::npos);
  CHECK(r.error().message.find("HTTP/1.1 upgrade") != std::string::npos);
}

TEST_CASE("loop client: no answer within the timeout is kTimeout; a closed port is kUnavailable") {
  Fixture f;
  TestTlsServer server({}, [](SSL* ssl, int) {
    ReadHead(ssl);
    char c;
    SSL_read(ssl, &c, 1);  // never answers; returns when the client gives up and closes
  });
  RestConfig c = ConfigFor(server.port());
  c.timeout = std::chrono::milliseconds(300);
  auto started = std::chrono::steady_clock::now();
  auto r = MakeLoopHttpClient(*f.loop, c, NoEnv())->Do(Get("/slow"));
  auto took = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kTimeout);
  CHECK(took < std::chrono::seconds(3));

  int port = 0;
  close(test::ListenLoopback(&port));  // a port nobody listens on
  auto refused = MakeLoopHttpClient(*f.loop, ConfigFor(port), NoEnv())->Do(Get("/"));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kUnavailable);
  CHECK(refused.error().message.rfind("Unable to connect to the server https://127.0.0.1:" +
                                          std::to_string(port) + ": TCP connection failed (",
                                      0) == 0);
}

TEST_CASE("loop client: malformed or cut responses are errors, never a crash") {
  Fixture f;
  const std::vector<std::string> replies = {
      "HTTP/1.1 2x0 OK\r\n\r\n",
      "NOT HTTP AT ALL\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: " + std::string(70000, 'a') + "\r\n\r\n",
  };
  for (const std::string& reply : replies) {
    CAPTURE(reply.substr(0, 60));
    TestTlsServer server({}, [&reply](SSL* ssl, int) {
      ReadHead(ssl);
      SslWriteAll(ssl, reply);
    });
    auto r = MakeLoopHttpClient(*f.loop, ConfigFor(server.port()), NoEnv())->Do(Get("/"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kUnavailable);
    CHECK(r.error().message.find('\n') == std::string::npos);
  }
}

TEST_CASE("loop client: proxy-url tunnels through an HTTP CONNECT proxy (tinyproxy)") {
  Fixture f;
  test::TinyProxy proxy;
  REQUIRE_MESSAGE(proxy.ready(), "tinyproxy not installed (packaging/install-deps.sh)");
  std::string head;
  TestTlsServer server({}, [&](SSL* ssl, int) {
    head = ReadHead(ssl);
    SslWriteAll(ssl, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nproxied");
  });
  RestConfig c = ConfigFor(server.port());
  c.proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port());
  auto r = MakeLoopHttpClient(*f.loop, c, NoEnv())->Do(Get("/api"));
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK(r->body == "proxied");
  CHECK(head.rfind("GET /api HTTP/1.1\r\n", 0) == 0);

  // A dead proxy is a clear error naming the proxy step, not the server's TCP.
  int dead = 0;
  close(test::ListenLoopback(&dead));
  c.proxy_url = "http://127.0.0.1:" + std::to_string(dead);
  auto bad = MakeLoopHttpClient(*f.loop, c, NoEnv())->Do(Get("/api"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == ErrorCode::kUnavailable);
  CHECK(bad.error().message.find("proxy") != std::string::npos);
}

TEST_CASE("loop client: HTTPS_PROXY is read through the injected environment") {
  Fixture f;
  // Loopback targets never use an environment proxy (Go's httpproxy rule): a proxy variable
  // pointing at a dead port must not matter.
  TestTlsServer server({}, [](SSL* ssl, int) {
    ReadHead(ssl);
    SslWriteAll(ssl, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  });
  LoopHttpClientOptions o;
  o.getenv = [](const char* n) -> const char* {
    return std::string(n) == "HTTPS_PROXY" ? "http://127.0.0.1:1" : nullptr;
  };
  auto r = MakeLoopHttpClient(*f.loop, ConfigFor(server.port()), o)->Do(Get("/"));
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  // A bad proxy URL in the environment is a kConfig error, as for the upgrades.
  o.getenv = [](const char* n) -> const char* {
    return std::string(n) == "HTTPS_PROXY" ? "socks5://127.0.0.1:1" : nullptr;
  };
  RestConfig c = ConfigFor(server.port());
  c.server = "https://kproxy.test:" + std::to_string(server.port());
  auto bad = MakeLoopHttpClient(*f.loop, c, o)->Do(Get("/"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == ErrorCode::kConfig);
}

TEST_CASE("curl library: loaded on demand; a missing library is one clear kConfig line") {
  auto api = Curl();
  REQUIRE_MESSAGE(api.ok(), api.error().message);
  CHECK((*api)->easy_strerror(CURLE_COULDNT_CONNECT) != nullptr);
  auto missing = LoadCurlLibrary("libcurl-does-not-exist.so.99");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ErrorCode::kConfig);
  CHECK(missing.error().message.find("libcurl-does-not-exist.so.99 cannot be loaded") == 0);
  CHECK(missing.error().message.find("libcurl4") != std::string::npos);
  CHECK(missing.error().message.find('\n') == std::string::npos);
  // A library without curl's functions is refused by name.
  auto wrong = LoadCurlLibrary("libz.so.1");
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().message.find("lacks curl_global_init") != std::string::npos);
}

}  // namespace
}  // namespace kproxy
