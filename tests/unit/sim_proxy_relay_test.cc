// The access proxy relays an upgraded connection byte for byte after the upstream's 101, and
// forwards with its own credentials plus impersonation (in-process upstream that records).
#include <doctest/doctest.h>

#include <mutex>

#include "tests/sim/fixture.h"
#include "tests/sim/proxy/access_proxy.h"
#include "tests/sim/server/http_server.h"
#include "tests/sim/server/tls_context.h"
#include "tests/support/sim_process.h"

namespace kproxy::sim {

namespace {
const char kRaw[] = "\x80\x03\x00\x01 binary \x00\xff END";
const std::string kStreamBytes(kRaw, sizeof kRaw - 1);  // binary, NULs included
}  // namespace

TEST_CASE("sim proxy relay: 101 then bytes both ways; identity replaced by impersonation") {
  auto fixture = LoadFixture(DefaultFixturePath());
  REQUIRE(fixture.ok());
  auto pki = GeneratePki();
  REQUIRE(pki.ok());
  auto server_ctx = MakeServerContext(*pki, AlpnMode::kHttp11);
  auto client_ctx = MakeClientContext(pki->ca_cert_pem);
  REQUIRE(server_ctx.ok());
  REQUIRE(client_ctx.ok());

  std::mutex mu;
  HttpRequest seen;
  ServerOptions upstream_opts;
  upstream_opts.tls = *server_ctx;
  HttpServer upstream(upstream_opts, [&](const HttpRequest& req, const std::string&,
                                         const RequestContext&) {
    {
      std::lock_guard<std::mutex> lock(mu);
      seen = req;
    }
    HttpResponse r;
    r.takeover = [](Conn& conn, std::string already) {
      conn.WriteAll(
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\nConnection: Upgrade\r\n\r\n");
      std::string got = already;
      char buf[256];
      while (got.find("END") == std::string::npos) {
        ssize_t n = conn.Read(buf, sizeof buf, 2000);
        if (n <= 0) break;
        got.append(buf, n);
      }
      conn.WriteAll("upstream-got:" + got);
      conn.ShutdownWrite();
    };
    return r;
  });
  auto up_port = upstream.Start();
  REQUIRE(up_port.ok());

  SessionStore sessions;
  AccessProxy proxy(&*fixture, fixture->proxy.routes.front(), &sessions,
                    UpstreamTarget{"127.0.0.1", *up_port, *client_ctx});
  ServerOptions proxy_opts;
  proxy_opts.tls = *server_ctx;
  HttpServer proxy_server(proxy_opts,
                          [&](const HttpRequest& r, const std::string& b, const RequestContext& c) {
                            return proxy.Handle(r, b, c);
                          });
  auto proxy_port = proxy_server.Start();
  REQUIRE(proxy_port.ok());
  proxy.set_public_url("https://127.0.0.1:" + std::to_string(*proxy_port));

  std::string jwt = sessions.Mint(*fixture->FindUser("bob"), "aud");
  std::string request =
      "POST /api/v1/namespaces/default/pods/web/exec?command=sh HTTP/1.1\r\nHost: x\r\n"
      "Authorization: Bearer Pomerium-" +
      jwt +
      "\r\n"
      "Impersonate-User: alice\r\nUser-Agent: kubectl/v1.28.4 (linux/amd64) kubernetes/bae2c62\r\n"
      "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n"
      "Content-Length: 0\r\n\r\n" +
      kStreamBytes;
  test::RawReply reply = test::RawTls(*proxy_port, pki->ca_cert_pem, "http/1.1", request, 7, 3000);
  REQUIRE(reply.handshake_ok);
  CHECK(reply.received.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0) == 0);
  CHECK(reply.received.find("x-request-id: ") != std::string::npos);
  CHECK(reply.received.find("upstream-got:" + kStreamBytes) != std::string::npos);
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(seen.Header("authorization") == "Bearer access-proxy-sa-token");
    CHECK(seen.Headers("impersonate-user") == std::vector<std::string>{"bob"});
    CHECK(seen.Headers("impersonate-group") == std::vector<std::string>{"viewers"});
    CHECK(seen.Header("upgrade") == "SPDY/3.1");
    CHECK(seen.ConnectionHas("upgrade"));
    CHECK(seen.Header("x-stream-protocol-version") == "v4.channel.k8s.io");
    CHECK(seen.Header("user-agent").find("kubernetes/") != std::string::npos);
  }
  CHECK(sessions.forwarded.load() == 1);

  // With the upstream gone, the proxy answers 502 with its request id.
  upstream.Stop();
  test::RawReply gone = test::RawTls(
      *proxy_port, pki->ca_cert_pem, "http/1.1",
      "GET /version HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer Pomerium-" + jwt + "\r\n\r\n", 0,
      3000);
  CHECK(gone.received.rfind("HTTP/1.1 502 Bad Gateway", 0) == 0);
  CHECK(gone.received.find("x-request-id: ") != std::string::npos);
  proxy_server.Stop();
  SSL_CTX_free(*server_ctx);
  SSL_CTX_free(*client_ctx);
}

}  // namespace kproxy::sim
