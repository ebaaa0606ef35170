#include <doctest/doctest.h>

#include <fstream>

#include "auth/credentials.h"
#include "auth/route_http_client.h"
#include "tests/support/test_env.h"
#include "tests/unit/auth_fakes.h"

namespace kproxy::auth {
namespace {

using testing::FakeEnv;
using testing::FollowingBrowser;

struct Rig {
  test::FakeAccessProxy proxy;
  test::TempDir tmp;
  FakeEnv fake;
  AuthEnvironment env = fake.Make();
  TokenCache cache{tmp.path() / "kproxy"};
  std::unique_ptr<HttpClient> http = MakeRouteHttpClient(RestConfig{});
  FollowingBrowser browser{&fake};
  int requests = 0;

  CredentialDeps Deps() {
    CredentialDeps d;
    d.env = &env;
    d.cache = &cache;
    d.route_http = http.get();
    d.open_browser = browser.Opener();
    return d;
  }
  RestConfig ProxyUser(const std::string& mode = "IfAvailable") {
    RestConfig rc;
    rc.server = proxy.url();
    ExecPluginConfig e;
    e.api_version = "client.authentication.k8s.io/v1";
    e.command = "/usr/local/bin/kproxy";
    e.args = {"credential", "--server", proxy.url(), "--login-timeout", "10s"};
    e.interactive_mode = mode;
    rc.exec = e;
    return rc;
  }
  // A GET through the proxy to the "API server", with the given Authorization.
  Result<HttpResponse> Get(const std::string& authorization) {
    ++requests;
    auto r = test::RawHttp("GET", proxy.url() + "/api/v1/namespaces/default/pods",
                           {"Authorization: " + authorization});
    HttpResponse resp;
    resp.status = r.status;
    resp.body = r.body;
    return resp;
  }
};

TEST_CASE("credentials: `kproxy credential` exec users take the in-process access-proxy path") {
  Rig r;
  CredentialProvider p(r.ProxyUser(), r.Deps());
  CHECK(p.source() == CredentialSource::kAccessProxy);
  auto h = p.AuthorizationHeader();
  REQUIRE(h.ok());
  CHECK(*h == "Bearer Pomerium-" + r.proxy.issued()[0]);
  CHECK(r.proxy.sign_in_hits() == 1);
  auto resp = WithSessionRetry(p, [&](const std::string& a) { return r.Get(a); });
  REQUIRE(resp.ok());
  CHECK(resp->status == 200);
  CHECK(r.requests == 1);
}

TEST_CASE("credentials: 401 → drop, mark rejected, one re-login, one retry") {
  Rig r;
  CredentialProvider p(r.ProxyUser(), r.Deps());
  REQUIRE(p.AuthorizationHeader().ok());
  std::string old = r.proxy.issued()[0];
  r.proxy.Revoke(old);
  auto resp = WithSessionRetry(p, [&](const std::string& a) { return r.Get(a); });
  REQUIRE(resp.ok());
  CHECK(resp->status == 200);
  CHECK(r.requests == 2);
  CHECK(r.proxy.sign_in_hits() == 2);
  auto e = r.cache.Load(TokenCache::Key(r.proxy.url(), kModeBrowser));
  REQUIRE(e->has_value());
  CHECK((*e)->token == r.proxy.issued()[1]);
  CHECK_FALSE((*e)->rejected);
  // Still 401 after the retry: returned, not retried forever.
  r.proxy.Revoke(r.proxy.issued()[1]);
  r.fake.now_seconds += 3600;  // past the abandon cooldown, irrelevant here
  CredentialProvider p2(r.ProxyUser(), r.Deps());
  int calls = 0;
  auto always401 = WithSessionRetry(p2, [&](const std::string&) -> Result<HttpResponse> {
    ++calls;
    HttpResponse x;
    x.status = 401;
    return x;
  });
  REQUIRE(always401.ok());
  CHECK(always401->status == 401);
  CHECK(calls == 2);
}

TEST_CASE("credentials: non-interactive 401 → kLoginRequired naming the command, cache marked") {
  Rig r;
  {
    CredentialProvider p(r.ProxyUser(), r.Deps());
    REQUIRE(p.AuthorizationHeader().ok());
  }
  r.proxy.Revoke(r.proxy.issued()[0]);
  r.fake.tty = false;
  CredentialProvider p(r.ProxyUser(), r.Deps());
  auto resp = WithSessionRetry(p, [&](const std::string& a) { return r.Get(a); });
  REQUIRE_FALSE(resp.ok());
  CHECK(resp.error().code == ErrorCode::kLoginRequired);
  CHECK(resp.error().message.find("kproxy login --server " + r.proxy.url()) != std::string::npos);
  CHECK((*r.cache.Load(TokenCache::Key(r.proxy.url(), kModeBrowser)))->rejected);
  CHECK(r.proxy.sign_in_hits() == 1);
}

TEST_CASE("credentials: interactiveMode Never and exec -i make the proxy path non-interactive") {
  Rig r;
  CredentialProvider never(r.ProxyUser("Never"), r.Deps());
  CHECK(never.AuthorizationHeader().error().code == ErrorCode::kLoginRequired);
  auto d = r.Deps();
  d.stdin_in_use = true;
  CredentialProvider busy(r.ProxyUser(), d);
  CHECK(busy.AuthorizationHeader().error().code == ErrorCode::kLoginRequired);
  CHECK(r.proxy.login_hits() == 0);
}

TEST_CASE("credentials: static token, basic, tokenFile; no retry where nothing can renew") {
  Rig r;
  RestConfig st;
  st.bearer_token = "static-token";
  CredentialProvider a(st, r.Deps());
  CHECK(*a.AuthorizationHeader() == "Bearer static-token");
  int calls = 0;
  auto resp = WithSessionRetry(a, [&](const std::string&) -> Result<HttpResponse> {
    ++calls;
    HttpResponse x;
    x.status = 401;
    return x;
  });
  CHECK(resp->status == 401);
  CHECK(calls == 1);

  RestConfig basic;
  basic.username = "alice";
  basic.password = "s3cret";
  CHECK(*CredentialProvider(basic, r.Deps()).AuthorizationHeader() == "Basic YWxpY2U6czNjcmV0");

  auto file = r.tmp.path() / "token";
  std::ofstream(file) << "file-token-1\n";
  RestConfig tf;
  tf.token_file = file.string();
  CredentialProvider f(tf, r.Deps());
  CHECK(*f.AuthorizationHeader() == "Bearer file-token-1");
  std::ofstream(file) << "file-token-2\n";
  // A 401 re-reads the rotated file and retries once with the new token.
  std::vector<std::string> seen;
  auto fr = WithSessionRetry(f, [&](const std::string& auth) -> Result<HttpResponse> {
    seen.push_back(auth);
    HttpResponse x;
    x.status = seen.size() == 1 ? 401 : 200;
    return x;
  });
  CHECK(fr->status == 200);
  CHECK(seen == std::vector<std::string>{"Bearer file-token-1", "Bearer file-token-2"});

  CHECK(*CredentialProvider(RestConfig{}, r.Deps()).AuthorizationHeader() == "");
}

TEST_CASE("credentials: recognising `kproxy credential` exec stanzas") {
  ExecPluginConfig e;
  e.command = "kproxy";
  e.args = {"credential",   "--server=https://k8s.example.com",
            "--no-browser", "--browser-cmd",
            "firefox",      "--login-timeout",
            "90s"};
  auto a = AsKproxyCredentialPlugin(e);
  REQUIRE(a.has_value());
  CHECK(a->server == "https://k8s.example.com");
  CHECK(a->no_browser);
  CHECK(a->browser_cmd == "firefox");
  CHECK(a->login_timeout == std::chrono::seconds(90));
  e.args = {"credential"};
  CHECK_FALSE(AsKproxyCredentialPlugin(e).has_value());  // no server
  e.args = {"credential", "--server", "https://x", "--unknown"};
  CHECK_FALSE(AsKproxyCredentialPlugin(e).has_value());
  e.command = "pomerium-cli";
  e.args = {"credential", "--server", "https://x"};
  CHECK_FALSE(AsKproxyCredentialPlugin(e).has_value());
  CHECK(*ParseDuration("5m") == std::chrono::minutes(5));
  CHECK(*ParseDuration("1500ms") == std::chrono::milliseconds(1500));
  CHECK(*ParseDuration("30") == std::chrono::seconds(30));
  CHECK_FALSE(ParseDuration("5 minutes").ok());
  CHECK_FALSE(ParseDuration("m").ok());
}

TEST_CASE("credentials: what counts as a session rejection") {
  HttpResponse r;
  r.status = 401;
  CHECK(IsSessionRejection(r, "https://k8s.example.com"));
  r.status = 403;
  CHECK_FALSE(IsSessionRejection(r, "https://k8s.example.com"));
  r.status = 302;
  r.headers = {{"location", "https://authenticate.example.com/.pomerium/sign_in?x"}};
  CHECK(IsSessionRejection(r, "https://k8s.example.com"));
  r.headers = {{"Location", "https://k8s.example.com/other"}};
  CHECK_FALSE(IsSessionRejection(r, "https://k8s.example.com"));
  r.headers = {{"Location", "https://idp.example.com/login"}};
  CHECK(IsSessionRejection(r, "https://k8s.example.com"));
}

}  // namespace
}  // namespace kproxy::auth
