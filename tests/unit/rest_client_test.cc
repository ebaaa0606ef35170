// The libcurl client against a real TLS peer (tests/support/https_server) on 127.0.0.1.
#include <curl/curl.h>
#include <doctest/doctest.h>

#include <fstream>

#include "core/base/log.h"
#include "core/rest/curl_error.h"
#include "core/rest/http_client.h"
#include "core/rest/token_file.h"
#include "tests/support/https_server.h"
#include "tests/support/test_env.h"
#include "tests/support/test_pki.h"

namespace kproxy {
namespace {

using test::HttpsServer;
using test::HttpsServerOptions;
using test::ScriptedResponse;
using test::TestPki;

RestConfig ConfigFor(const HttpsServer& server) {
  RestConfig c;
  c.server = server.url();
  c.ca_data = TestPki::Get().ca.cert;
  c.timeout = std::chrono::seconds(10);
  return c;
}

HttpsServer::Handler Ok(std::string body = "{}") {
  return [body](const test::RecordedRequest&) { return ScriptedResponse{200, {}, body}; };
}

Result<HttpResponse> Get(const RestConfig& c, const std::string& path = "/api/v1/pods") {
  HttpRequest req;
  req.path = path;
  return MakeCurlHttpClient(c)->Do(req);
}

TEST_CASE("rest client: GET sends User-Agent, Accept and the bearer token") {
  HttpsServer server({}, Ok(R"({"kind":"PodList"})"));
  RestConfig c = ConfigFor(server);
  c.bearer_token = "tok-abc-123";
  auto r = Get(c, "/api/v1/namespaces/default/pods?limit=500");
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body == R"({"kind":"PodList"})");
  CHECK(r->Header("content-type") == "application/json");
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].method == "GET");
  CHECK(reqs[0].target == "/api/v1/namespaces/default/pods?limit=500");
  CHECK(reqs[0].Header("Authorization") == "Bearer tok-abc-123");
  CHECK(reqs[0].Header("Accept") == "application/json, */*");
  std::string ua = reqs[0].Header("User-Agent");
  CHECK(ua.rfind("kproxy/v" KPROXY_VERSION " (linux/", 0) == 0);
  CHECK(ua.find(") kubernetes/") != std::string::npos);
  CHECK(reqs[0].HeaderValues("Impersonate-User").empty());
  CHECK(reqs[0].sni.empty());  // an IP address is never sent as SNI
}

TEST_CASE("rest client: server URL with a path prefix is joined, explicit Accept kept") {
  HttpsServer server({}, Ok());
  RestConfig c = ConfigFor(server);
  c.server = server.url() + "/k8s/clusters/c-1/";
  HttpRequest req;
  req.path = "/version";
  req.headers = {{"Accept", "application/json"}};
  auto r = MakeCurlHttpClient(c)->Do(req);
  REQUIRE(r.ok());
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].target == "/k8s/clusters/c-1/version");
  CHECK(reqs[0].HeaderValues("Accept") == std::vector<std::string>{"application/json"});
}

TEST_CASE("rest client: authenticate=false sends no credentials") {
  HttpsServer server({}, Ok());
  RestConfig c = ConfigFor(server);
  c.bearer_token = "secret-token";
  c.impersonate_user = "bob";
  HttpRequest req;
  req.path = "/.pomerium/api/v1/login";
  req.authenticate = false;
  REQUIRE(MakeCurlHttpClient(c)->Do(req).ok());
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].Header("Authorization").empty());
  CHECK(reqs[0].Header("Impersonate-User").empty());
}

TEST_CASE("rest client: tokenFile is read and a changed file is picked up after a minute") {
  test::TempDir dir;
  auto path = dir.path() / "token";
  std::ofstream(path) << "first-token\n";
  HttpsServer server({}, Ok());
  RestConfig c = ConfigFor(server);
  c.token_file = path.string();
  auto now = std::chrono::steady_clock::now();
  HttpClientOptions opts;
  opts.now = [&now] { return now; };
  auto client = MakeCurlHttpClient(c, opts);
  HttpRequest req;
  req.path = "/api";
  REQUIRE(client->Do(req).ok());
  std::ofstream(path) << "second-token";
  now += std::chrono::seconds(30);
  REQUIRE(client->Do(req).ok());  // still cached
  now += std::chrono::seconds(31);
  REQUIRE(client->Do(req).ok());  // re-read
  std::filesystem::remove(path);
  now += std::chrono::seconds(61);
  REQUIRE(client->Do(req).ok());  // unreadable: keeps the last good token
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 4);
  CHECK(reqs[0].Header("Authorization") == "Bearer first-token");
  CHECK(reqs[1].Header("Authorization") == "Bearer first-token");
  CHECK(reqs[2].Header("Authorization") == "Bearer second-token");
  CHECK(reqs[3].Header("Authorization") == "Bearer second-token");
}

TEST_CASE("rest client: a missing tokenFile is a config error before any request") {
  HttpsServer server({}, Ok());
  RestConfig c = ConfigFor(server);
  c.token_file = "/nonexistent/kproxy/token";
  auto r = Get(c);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kConfig);
  CHECK(r.error().message.find("/nonexistent/kproxy/token") != std::string::npos);
  CHECK(server.requests().empty());
}

TEST_CASE("rest client: client certificate from memory is presented") {
  HttpsServerOptions o;
  o.client_ca = TestPki::Get().ca.cert;
  o.require_client_cert = true;
  HttpsServer server(o, Ok());
  RestConfig c = ConfigFor(server);
  c.client_cert_data = TestPki::Get().client.cert;
  c.client_key_data = TestPki::Get().client.key;
  auto r = Get(c);
  REQUIRE(r.ok());
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].peer_subject == "/O=developers/CN=jane");
  CHECK(reqs[0].Header("Authorization").empty());

  SUBCASE("without a certificate the handshake fails with a clear TLS error") {
    RestConfig bare = ConfigFor(server);
    auto f = Get(bare);
    REQUIRE_FALSE(f.ok());
    CHECK(f.error().code == ErrorCode::kUnavailable);
    CHECK(f.error().message.find(server.url()) != std::string::npos);
  }
}

TEST_CASE("rest client: basic auth") {
  HttpsServer server({}, Ok());
  RestConfig c = ConfigFor(server);
  c.username = "admin";
  c.password = "s3cr3t-pw";
  REQUIRE(Get(c).ok());
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  // base64("admin:s3cr3t-pw")
  CHECK(reqs[0].Header("Authorization") == "Basic YWRtaW46czNjcjN0LXB3");
}

TEST_CASE("rest client: impersonation headers have kubectl's exact names and values") {
  HttpsServer server({}, Ok());
  RestConfig c = ConfigFor(server);
  c.bearer_token = "tok-imp";
  c.impersonate_user = "system:serviceaccount:ns:sa";
  c.impersonate_groups = {"devs", "system:authenticated"};
  c.impersonate_uid = "1234-abcd";
  c.impersonate_extra = {{"Scopes", {"view", "edit"}}, {"example.com/Team Name", {"a b"}}};
  REQUIRE(Get(c).ok());
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  const auto& q = reqs[0];
  CHECK(q.HeaderValues("Impersonate-User") ==
        std::vector<std::string>{"system:serviceaccount:ns:sa"});
  CHECK(q.HeaderValues("Impersonate-Group") ==
        std::vector<std::string>{"devs", "system:authenticated"});
  CHECK(q.HeaderValues("Impersonate-Uid") == std::vector<std::string>{"1234-abcd"});
  CHECK(q.HeaderValues("Impersonate-Extra-scopes") == std::vector<std::string>{"view", "edit"});
  CHECK(q.HeaderValues("Impersonate-Extra-example.com%2Fteam%20name") ==
        std::vector<std::string>{"a b"});
  // Exact header names as sent.
  bool saw = false;
  for (const auto& [k, v] : q.headers) saw |= k == "Impersonate-Extra-example.com%2Fteam%20name";
  CHECK(saw);
}

TEST_CASE("rest client: tls-server-name verifies against the name while connecting to the IP") {
  HttpsServerOptions o;
  o.certificate = TestPki::Get().named_server;  // SAN DNS:api.kproxy.test only
  HttpsServer server(o, Ok());
  RestConfig c = ConfigFor(server);
  SUBCASE("without it, verification fails naming the server") {
    auto r = Get(c);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kUnavailable);
    CHECK(r.error().message.find("could not be verified") != std::string::npos);
    CHECK(r.error().message.find(server.url()) != std::string::npos);
  }
  SUBCASE("with it, SNI carries the name and Host the configured address") {
    c.tls_server_name = "api.kproxy.test";
    auto r = Get(c);
    REQUIRE(r.ok());
    auto reqs = server.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].sni == "api.kproxy.test");
    CHECK(reqs[0].Header("Host") == "127.0.0.1:" + std::to_string(server.port()));
  }
}

TEST_CASE("rest client: a wrong CA gives one clear TLS line naming the server") {
  HttpsServer server({}, Ok());
  RestConfig c = ConfigFor(server);
  c.ca_data = TestPki::Get().other_ca.cert;
  c.bearer_token = "never-in-errors-token";
  auto r = Get(c);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kUnavailable);
  const std::string& m = r.error().message;
  CHECK(m.find("certificate could not be verified") != std::string::npos);
  CHECK(m.find(server.url()) != std::string::npos);
  CHECK(m.find('\n') == std::string::npos);
  CHECK(m.find("never-in-errors-token") == std::string::npos);
  CHECK(server.requests().empty());

  SUBCASE("insecure mode skips verification") {
    c.insecure_skip_tls_verify = true;
    CHECK(Get(c).ok());
  }
}

TEST_CASE("rest client: redirects are returned, never followed") {
  HttpsServer server({}, [](const test::RecordedRequest&) {
    return ScriptedResponse{302, {{"Location", "/elsewhere"}}, ""};
  });
  auto r = Get(ConfigFor(server));
  REQUIRE(r.ok());
  CHECK(r->status == 302);
  CHECK(r->Header("Location") == "/elsewhere");
  CHECK(server.requests().size() == 1);
}

TEST_CASE("rest client: RestConfig::timeout bounds the request") {
  HttpsServer server({}, [](const test::RecordedRequest&) {
    ScriptedResponse r;
    r.delay = std::chrono::milliseconds(3000);
    return r;
  });
  RestConfig c = ConfigFor(server);
  c.timeout = std::chrono::milliseconds(300);
  auto started = std::chrono::steady_clock::now();
  auto r = Get(c);
  auto took = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kTimeout);
  CHECK(took < std::chrono::milliseconds(2500));
}

TEST_CASE("rest client: connection refused is a one-line Unavailable error") {
  RestConfig c;
  c.timeout = std::chrono::seconds(5);
  {
    test::HttpsServer server({}, Ok());
    c.server = server.url();
  }  // closed: nothing listens there now
  auto r = Get(c);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(r.error().message == "Unable to connect to the server " + c.server +
                                 ": TCP connection failed (" +
                                 r.error().message.substr(r.error().message.find('(') + 1));
  CHECK(r.error().message.find('\n') == std::string::npos);
}

// DNS is not exercised live (tests send nothing beyond loopback); the mapping is pure.
TEST_CASE("rest client: curl failures map to one clear line each") {
  const std::string s = "https://api.example:6443";
  auto dns =
      CurlTransferError(CURLE_COULDNT_RESOLVE_HOST, "Could not resolve host: api.example", s);
  CHECK(dns.code == ErrorCode::kUnavailable);
  CHECK(dns.message ==
        "Unable to connect to the server https://api.example:6443: DNS lookup "
        "failed (Could not resolve host: api.example)");
  auto tls = CurlTransferError(CURLE_PEER_FAILED_VERIFICATION, "SSL certificate problem", s);
  CHECK(tls.message.find("certificate could not be verified") != std::string::npos);
  CHECK(CurlTransferError(CURLE_OPERATION_TIMEDOUT, "", s).code == ErrorCode::kTimeout);
  CHECK(CurlTransferError(CURLE_SSL_CERTPROBLEM, "bad key", s).code == ErrorCode::kConfig);
  auto other = CurlTransferError(CURLE_GOT_NOTHING, "", s);
  CHECK(other.message ==
        "Unable to connect to the server https://api.example:6443: connection "
        "lost (Server returned nothing (no headers, no data))");
}

TEST_CASE("rest client: -v 7 logs request headers with secrets redacted") {
  HttpsServer server({}, Ok());
  RestConfig c = ConfigFor(server);
  c.bearer_token = "very-secret-bearer";
  int saved_fd = dup(2);
  test::TempDir dir;
  auto log_path = dir.path() / "stderr";
  FILE* f = fopen(log_path.c_str(), "w");
  dup2(fileno(f), 2);
  SetVerbosity(7);
  auto r = Get(c);
  SetVerbosity(0);
  fflush(stderr);
  dup2(saved_fd, 2);
  close(saved_fd);
  fclose(f);
  REQUIRE(r.ok());
  std::string log = test::ReadFileOrDie(log_path);
  CHECK(log.find("GET " + server.url()) != std::string::npos);
  CHECK(log.find("Authorization: Bearer REDACTED") != std::string::npos);
  CHECK(log.find("very-secret-bearer") == std::string::npos);
}

TEST_CASE("rest client: TokenFileSource trims, errors on an empty first read") {
  test::TempDir dir;
  auto path = dir.path() / "t";
  std::ofstream(path) << "  \n";
  TokenFileSource empty(path.string());
  auto e = empty.Token();
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().code == ErrorCode::kConfig);
  CHECK(e.error().message.find(path.string()) != std::string::npos);
  std::ofstream(path) << "\t tok-123 \r\n";
  TokenFileSource ok(path.string());
  auto t = ok.Token();
  REQUIRE(t.ok());
  CHECK(*t == "tok-123");
}

}  // namespace
}  // namespace kproxy
