#include <doctest/doctest.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "auth/access_proxy_session.h"
#include "auth/route_http_client.h"
#include "auth/route_url.h"
#include "tests/support/test_env.h"
#include "tests/unit/auth_fakes.h"

namespace kproxy::auth {
namespace {

using testing::FakeEnv;
using testing::FollowingBrowser;

struct Harness {
  test::FakeAccessProxy proxy;
  test::TempDir tmp;
  FakeEnv fake;
  AuthEnvironment env = fake.Make();
  TokenCache cache{tmp.path() / "kproxy"};
  std::unique_ptr<HttpClient> http = MakeRouteHttpClient(RestConfig{});

  SessionOptions Options(bool interactive = true) {
    SessionOptions o;
    o.route = proxy.url() + "/";
    o.interactive = interactive;
    o.login_timeout = std::chrono::seconds(10);
    return o;
  }
  SessionDeps Deps(BrowserOpener opener, const std::atomic<bool>* cancel = nullptr,
                   std::istream* in = nullptr) {
    SessionDeps d;
    d.http = http.get();
    d.env = &env;
    d.cache = &cache;
    d.open_browser = std::move(opener);
    d.cancel = cancel;
    d.stdin_stream = in;
    return d;
  }
  std::string Key() { return TokenCache::Key(proxy.url(), kModeBrowser); }
};

TEST_CASE("access proxy: happy path — URL printed first, state-checked callback, cached 0600") {
  Harness h;
  FollowingBrowser browser(&h.fake);
  auto s = AcquireSession(h.Options(), h.Deps(browser.Opener()));
  REQUIRE(s.ok());
  browser.Join();
  REQUIRE(h.proxy.issued().size() == 1);
  CHECK(s->jwt == h.proxy.issued()[0]);
  CHECK(s->method == "access-proxy-login");
  CHECK(h.proxy.login_hits() == 1);
  CHECK(h.proxy.sign_in_hits() == 1);
  CHECK_FALSE(h.proxy.login_saw_authorization());
  // Redirect URI: loopback, random path, 128-bit hex state.
  std::regex shape(R"(http://127\.0\.0\.1:\d+/[0-9a-f]{16}/callback\?state=[0-9a-f]{32})");
  CHECK(std::regex_match(h.proxy.last_redirect_uri(), shape));
  // Printed to the user before the browser was opened.
  auto told = h.fake.Told();
  REQUIRE_FALSE(told.empty());
  CHECK(told[0].find("Please visit") != std::string::npos);
  CHECK(told[0].find(h.proxy.url() + "/.pomerium/sign_in?") != std::string::npos);
  REQUIRE(browser.told_before_open().size() == 1);
  CHECK(browser.told_before_open()[0] >= 1);
  CHECK(browser.callback_statuses() == std::vector<int>{200});
  CHECK(browser.callback_bodies()[0].find("Login complete") != std::string::npos);
  // Cached, private.
  struct stat st {};
  REQUIRE(::stat(h.cache.EntryPath(h.Key()).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto e = h.cache.Load(h.Key());
  REQUIRE(e->has_value());
  CHECK((*e)->token == s->jwt);
  CHECK((*e)->route == h.proxy.url());
  // Next call: from the cache, no probe within the probe memory, no new login.
  auto again = AcquireSession(h.Options(), h.Deps(browser.Opener()));
  REQUIRE(again.ok());
  CHECK(again->jwt == s->jwt);
  CHECK(again->method == "cache");
  CHECK(h.proxy.probe_hits() == 0);
  CHECK(h.proxy.login_hits() == 1);
  // After the probe memory: one probe (GET /.pomerium/user), still good.
  h.fake.now_seconds += 61;
  REQUIRE(AcquireSession(h.Options(), h.Deps(browser.Opener())).ok());
  CHECK(h.proxy.probe_hits() == 1);
  REQUIRE(AcquireSession(h.Options(), h.Deps(browser.Opener())).ok());
  CHECK(h.proxy.probe_hits() == 1);  // remembered
}

TEST_CASE("access proxy: forged callbacks get 400 while the real one completes") {
  Harness h;
  std::vector<int> forged;
  FollowingBrowser browser(&h.fake, [&](const std::string& cb) {
    // cb = http://127.0.0.1:P/<path>/callback?state=S&pomerium_jwt=J
    std::string base = cb.substr(0, cb.find('?'));
    std::string query = cb.substr(cb.find('?') + 1);
    std::string jwt_param = query.substr(query.find("&pomerium_jwt="));
    std::string origin = base.substr(0, base.find('/', 7));
    forged.push_back(
        test::RawHttp("GET", base + "?state=00000000000000000000000000000000" + jwt_param).status);
    forged.push_back(test::RawHttp("GET", origin + "/other/callback?" + query).status);
    forged.push_back(test::RawHttp("POST", cb).status);
    forged.push_back(test::RawHttp("GET", base + "?" + query.substr(0, query.find('&'))).status);
    forged.push_back(test::RawHttp("GET", cb + "&state=ffff").status);  // duplicate state
    forged.push_back(test::RawHttp("GET", origin + "/favicon.ico").status);
  });
  auto s = AcquireSession(h.Options(), h.Deps(browser.Opener()));
  REQUIRE(s.ok());
  browser.Join();
  CHECK(forged == std::vector<int>{400, 400, 400, 400, 400, 400});
  CHECK(browser.callback_statuses() == std::vector<int>{200});
  CHECK(s->jwt == h.proxy.issued()[0]);
}

TEST_CASE("access proxy: bounded wait; abandoned login starts a cooldown for plugin callers") {
  Harness h;
  std::vector<std::string> opened;
  BrowserOpener idle = [&](const std::string& url) {
    opened.push_back(url);
    return Status::Ok();
  };
  auto o = h.Options();
  o.login_timeout = std::chrono::milliseconds(300);
  auto t0 = std::chrono::steady_clock::now();
  auto s = AcquireSession(o, h.Deps(idle));
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kTimeout);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  CHECK(opened.size() == 1);
  CHECK(h.cache.PendingUrl(h.Key()).empty());
  // Within the cooldown a plugin caller does not open another tab.
  auto cooled = AcquireSession(o, h.Deps(idle));
  REQUIRE_FALSE(cooled.ok());
  CHECK(cooled.error().code == ErrorCode::kLoginRequired);
  CHECK(cooled.error().message.find("kproxy login --server " + h.proxy.url()) != std::string::npos);
  CHECK(opened.size() == 1);
  // `kproxy login` ignores it; after the cooldown plugin callers may try again.
  h.fake.now_seconds += 61;
  FollowingBrowser browser(&h.fake);
  o.login_timeout = std::chrono::seconds(10);
  CHECK(AcquireSession(o, h.Deps(browser.Opener())).ok());
}

TEST_CASE("access proxy: SIGINT flag cancels the wait cleanly") {
  Harness h;
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel = true;
  });
  auto s =
      AcquireSession(h.Options(), h.Deps([](const std::string&) { return Status::Ok(); }, &cancel));
  canceller.join();
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kCancelled);
}

TEST_CASE("access proxy: SIGINT also ends a wait for another process's sign-in") {
  Harness h;
  auto held = h.cache.Lock(h.Key(), std::chrono::seconds(1));  // "another process"
  REQUIRE(held.ok());
  REQUIRE(h.cache.SetPendingUrl(h.Key(), "https://idp.example/sign_in?x=1").ok());
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  int opened = 0;
  auto t0 = std::chrono::steady_clock::now();
  auto s = AcquireSession(h.Options(), h.Deps(
                                           [&](const std::string&) {
                                             ++opened;
                                             return Status::Ok();
                                           },
                                           &cancel));
  canceller.join();
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kCancelled);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  CHECK(opened == 0);
  // It printed the other process's URL once instead of opening a tab.
  auto told = h.fake.Told();
  REQUIRE(told.size() == 1);
  CHECK(told[0].find("https://idp.example/sign_in?x=1") != std::string::npos);
}

TEST_CASE("access proxy: login endpoint refusals are clear errors") {
  for (auto [status, code, words] :
       {std::tuple{400, ErrorCode::kConfig, "refused the login redirect"},
        std::tuple{404, ErrorCode::kConfig, "Pomerium-compatible"},
        std::tuple{405, ErrorCode::kProtocol, "method"},
        std::tuple{500, ErrorCode::kUnavailable, "HTTP 500"}}) {
    Harness h;
    h.proxy.set_login_status(status);
    int opened = 0;
    auto s = AcquireSession(h.Options(), h.Deps([&](const std::string&) {
      ++opened;
      return Status::Ok();
    }));
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == code);
    CHECK(s.error().message.find(words) != std::string::npos);
    CHECK(opened == 0);
  }
}

TEST_CASE("access proxy: a failing browser launcher is not fatal (URL was printed)") {
  Harness h;
  std::string printed;
  auto o = h.Options();
  o.login_timeout = std::chrono::seconds(10);
  // The "user" copies the printed URL into a browser by hand.
  std::thread user([&] {
    for (int i = 0; i < 100 && h.fake.ToldCount() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    auto told = h.fake.Told();
    if (told.empty()) return;
    std::string url = told[0].substr(told[0].find("http://"));
    auto page = test::RawHttp("GET", url);
    test::RawHttp("GET", page.headers["location"]);
  });
  auto s = AcquireSession(o, h.Deps([](const std::string&) {
    return Status(MakeError(ErrorCode::kUnavailable, "no display"));
  }));
  user.join();
  REQUIRE(s.ok());
  auto told = h.fake.Told();
  REQUIRE(told.size() >= 2);
  CHECK(told[1].find("could not open a browser") != std::string::npos);
}

TEST_CASE("access proxy: non-interactive callers fail fast naming the login command") {
  Harness h;
  auto s = AcquireSession(h.Options(false), h.Deps({}));
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kLoginRequired);
  CHECK(s.error().message.find("kproxy login --server " + h.proxy.url()) != std::string::npos);
  CHECK(h.proxy.login_hits() == 0);
}

TEST_CASE("access proxy: interactivity rules (CI, tty, spec.interactive)") {
  FakeEnv f;
  auto env = f.Make();
  CHECK(IsInteractive(env, std::nullopt));
  CHECK_FALSE(IsInteractive(env, false));
  f.tty = false;
  CHECK_FALSE(IsInteractive(env, std::nullopt));
  CHECK(IsInteractive(env, true));  // kubectl checked its own terminal and passes it on
  f.tty = true;
  f.vars["CI"] = "true";
  CHECK_FALSE(IsInteractive(env, std::nullopt));
  CHECK_FALSE(IsInteractive(env, true));
}

TEST_CASE("access proxy: a revoked session is marked rejected, then one re-login") {
  Harness h;
  FollowingBrowser browser(&h.fake);
  auto first = AcquireSession(h.Options(), h.Deps(browser.Opener()));
  REQUIRE(first.ok());
  h.proxy.Revoke(first->jwt);
  h.fake.now_seconds += 61;
  // Non-interactive: the probe finds it dead; rejected mark persisted; login required.
  auto ni = AcquireSession(h.Options(false), h.Deps({}));
  REQUIRE_FALSE(ni.ok());
  CHECK(ni.error().code == ErrorCode::kLoginRequired);
  CHECK((*h.cache.Load(h.Key()))->rejected);
  // Interactive: exactly one new login.
  auto second = AcquireSession(h.Options(), h.Deps(browser.Opener()));
  REQUIRE(second.ok());
  CHECK(second->jwt != first->jwt);
  CHECK(h.proxy.sign_in_hits() == 2);
  CHECK_FALSE((*h.cache.Load(h.Key()))->rejected);
  // MarkSessionRejected only touches the matching token.
  REQUIRE(MarkSessionRejected(h.proxy.url(), first->jwt, h.Deps({})).ok());
  CHECK_FALSE((*h.cache.Load(h.Key()))->rejected);
  REQUIRE(MarkSessionRejected(h.proxy.url(), second->jwt, h.Deps({})).ok());
  CHECK((*h.cache.Load(h.Key()))->rejected);
}

TEST_CASE("access proxy: a plugin caller asking again probes despite the probe memory") {
  // client-go re-runs the plugin only after a 401: the same caller asking again means the
  // token it was given has been refused, even within the ~60 s a good probe is remembered.
  Harness h;
  FollowingBrowser browser(&h.fake);
  auto o = h.Options();
  o.caller = "pid:100";
  auto first = AcquireSession(o, h.Deps(browser.Opener()));
  REQUIRE(first.ok());
  const int probes = h.proxy.probe_hits();
  SessionOptions other = h.Options(false);
  other.caller = "pid:200";
  auto a = AcquireSession(other, h.Deps({}));
  REQUIRE(a.ok());
  CHECK(a->jwt == first->jwt);
  CHECK(h.proxy.probe_hits() == probes);  // a new caller: the remembered probe is enough
  auto b = AcquireSession(other, h.Deps({}));
  REQUIRE(b.ok());
  CHECK(b->jwt == first->jwt);
  CHECK(h.proxy.probe_hits() == probes + 1);  // asked again: probed, still good
  h.proxy.Revoke(first->jwt);
  auto c = AcquireSession(other, h.Deps({}));
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().code == ErrorCode::kLoginRequired);
  CHECK(h.proxy.probe_hits() == probes + 2);
  CHECK((*h.cache.Load(h.Key()))->rejected);
  CHECK(h.proxy.sign_in_hits() == 1);  // non-interactive: no new sign-in
}

TEST_CASE("access proxy: expired JWTs (exp) are not reused") {
  Harness h;
  h.proxy.set_jwt_exp(h.fake.now_seconds + 3600);
  FollowingBrowser browser(&h.fake);
  auto first = AcquireSession(h.Options(), h.Deps(browser.Opener()));
  REQUIRE(first.ok());
  REQUIRE(first->expiry.has_value());
  CHECK(*first->expiry == h.fake.now_seconds + 3600);
  h.fake.now_seconds += 3600 - 10;  // inside the safety margin
  h.proxy.set_jwt_exp(h.fake.now_seconds + 3600);
  auto second = AcquireSession(h.Options(), h.Deps(browser.Opener()));
  REQUIRE(second.ok());
  CHECK(second->jwt != first->jwt);
}

TEST_CASE("access proxy: service-account token used as-is, re-read each run, never a browser") {
  Harness h;
  auto file = h.tmp.path() / "sa.jwt";
  std::ofstream(file) << "sa-token-one\n";
  auto o = h.Options(false);
  o.service_account_file = file.string();
  int opened = 0;
  BrowserOpener opener = [&](const std::string&) {
    ++opened;
    return Status::Ok();
  };
  auto a = AcquireSession(o, h.Deps(opener));
  REQUIRE(a.ok());
  CHECK(a->jwt == "sa-token-one");
  CHECK(a->method == "service-account");
  std::ofstream(file) << "sa-token-two";
  CHECK(AcquireSession(o, h.Deps(opener))->jwt == "sa-token-two");
  std::istringstream in("from-stdin\n");
  o.service_account_file = "-";
  CHECK(AcquireSession(o, h.Deps(opener, nullptr, &in))->jwt == "from-stdin");
  o.service_account_file = (h.tmp.path() / "missing").string();
  CHECK(AcquireSession(o, h.Deps(opener)).error().code == ErrorCode::kConfig);
  CHECK(opened == 0);
  CHECK(h.proxy.login_hits() == 0);
}

TEST_CASE("access proxy: concurrent callers with an empty cache sign in once") {
  Harness h;
  FollowingBrowser browser(&h.fake);
  constexpr int kCallers = 6;
  std::vector<std::string> jwts(kCallers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      auto s = AcquireSession(h.Options(), h.Deps(browser.Opener()));
      if (s.ok()) jwts[i] = s->jwt;
    });
  }
  for (auto& t : threads) t.join();
  browser.Join();
  CHECK(h.proxy.sign_in_hits() == 1);
  CHECK(h.proxy.login_hits() == 1);
  CHECK(browser.opened().size() == 1);
  REQUIRE_FALSE(jwts[0].empty());
  for (const auto& j : jwts) CHECK(j == jwts[0]);
}

}  // namespace
}  // namespace kproxy::auth
