// The access-proxy emulator: programmatic login, sign-in page, session JWTs, policy denials in
// Pomerium's three formats, revocation, identity forwarding with impersonation, upgrades.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/support/sim_process.h"

namespace kproxy::test {

namespace {

using nlohmann::json;

std::string UrlEscape(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// base64url without padding → bytes (test-side decoder, independent of the proxy's).
std::string B64UrlDecode(std::string s) {
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4) s.push_back('=');
  static const std::string kAlpha =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (char c : s) {
    if (c == '=') break;
    val = (val << 6) + static_cast<int>(kAlpha.find(c));
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xff));
      bits -= 8;
    }
  }
  return out;
}

struct Proxy {
  std::unique_ptr<SimProcess> sim;
  std::string ca;
  std::string url;

  Proxy() {
    std::string err;
    sim = SimProcess::Start(SimOptions{}, &err);
    REQUIRE_MESSAGE(sim, err);
    ca = sim->ca_pem();
    url = sim->proxy_url();
    REQUIRE(!url.empty());
  }
  HttpReply Get(const std::string& path, std::vector<std::string> headers = {},
                const std::string& base = "") {
    return HttpsRequest(ca, "GET", (base.empty() ? url : base) + path, headers);
  }
  // Signs in through the form and returns the session JWT from the 302's pomerium_jwt.
  std::string SignIn(const std::string& user, const std::string& password) {
    std::string redirect = "http://127.0.0.1:9/cb?state=abc";
    auto r = HttpsRequest(
        ca, "POST", url + "/.pomerium/sign_in", {"Content-Type: application/x-www-form-urlencoded"},
        "user=" + user + "&password=" + password + "&pomerium_redirect_uri=" + UrlEscape(redirect));
    REQUIRE(r.status == 302);
    std::string loc = r.Header("location");
    REQUIRE(loc.rfind(redirect + "&pomerium_jwt=", 0) == 0);
    return loc.substr(redirect.size() + std::string("&pomerium_jwt=").size());
  }
  json Stats() { return json::parse(Get("/.sim/stats").body); }
};

const std::string kKubeUA = "User-Agent: kubectl/v1.33.1 (linux/amd64) kubernetes/8adc0f0";

}  // namespace

TEST_SUITE("e2e.sim") {
  TEST_CASE("sim proxy: programmatic login API") {
    Proxy p;
    std::string redirect = "http://127.0.0.1:41234/kproxy/callback?state=00ff";
    auto ok = p.Get("/.pomerium/api/v1/login?pomerium_redirect_uri=" + UrlEscape(redirect));
    CHECK(ok.status == 200);
    CHECK(ok.Header("content-type").rfind("text/plain", 0) == 0);
    CHECK(ok.body.rfind(p.url + "/.pomerium/sign_in?pomerium_redirect_uri=", 0) == 0);
    CHECK_FALSE(ok.Header("x-request-id").empty());
    CHECK(p.Get("/.pomerium/api/v1/login?pomerium_redirect_uri=" +
                UrlEscape("http://evil.example.com/cb"))
              .status == 400);
    CHECK(p.Get("/.pomerium/api/v1/login?pomerium_redirect_uri=" +
                UrlEscape("http://127.0.0.1@evil.example.com/cb"))
              .status == 400);
    CHECK(p.Get("/.pomerium/api/v1/login?pomerium_redirect_uri=javascript:alert(1)").status == 400);
    CHECK(p.Get("/.pomerium/api/v1/login").status == 400);
    CHECK(
        p.Get("/.pomerium/api/v1/login?pomerium_redirect_uri=" + UrlEscape("http://localhost:1/x"))
            .status == 200);
    CHECK(HttpsRequest(p.ca, "POST", p.url + "/.pomerium/api/v1/login", {}, "").status == 405);
    CHECK(p.Get("/.pomerium/nothing-here").status == 404);
    CHECK(p.Stats()["loginApiCalls"] == 6);  // every GET; the POST is refused first
  }

  TEST_CASE("sim proxy: sign-in page counts hits and redirects with pomerium_jwt appended") {
    Proxy p;
    std::string redirect = "http://127.0.0.1:9/cb?state=abc";
    auto page = p.Get("/.pomerium/sign_in?pomerium_redirect_uri=" + UrlEscape(redirect));
    CHECK(page.status == 200);
    CHECK(page.body.find("<form method=\"POST\"") != std::string::npos);
    p.Get("/.pomerium/sign_in?pomerium_redirect_uri=" + UrlEscape(redirect));
    CHECK(p.Stats()["signInPageHits"] == 2);

    auto wrong =
        HttpsRequest(p.ca, "POST", p.url + "/.pomerium/sign_in", {},
                     "user=alice&password=nope&pomerium_redirect_uri=" + UrlEscape(redirect));
    CHECK(wrong.status == 401);
    std::string jwt = p.SignIn("alice", "alice-pass");
    CHECK(p.Stats()["signIns"] == 1);
    size_t d1 = jwt.find('.'), d2 = jwt.find('.', d1 + 1);
    REQUIRE(d2 != std::string::npos);
    json claims = json::parse(B64UrlDecode(jwt.substr(d1 + 1, d2 - d1 - 1)));
    CHECK(claims["sub"] == "alice");
    CHECK(claims["email"] == "alice@example.com");
    CHECK(claims["aud"] == p.url);
    CHECK(claims["iss"] == p.url);
    CHECK(claims["iat"].is_number_integer());
    CHECK(claims["jti"].get<std::string>().size() == 32);
    CHECK_FALSE(claims.contains("exp"));  // like Pomerium: no expiry claim
    CHECK(json::parse(B64UrlDecode(jwt.substr(0, d1)))["alg"] == "HS256");
    // A redirect without a query gets '?'.
    auto r = HttpsRequest(
        p.ca, "POST", p.url + "/.pomerium/sign_in", {},
        "user=bob&password=bob-pass&pomerium_redirect_uri=" + UrlEscape("http://localhost:7/done"));
    CHECK(r.Header("location").rfind("http://localhost:7/done?pomerium_jwt=", 0) == 0);
  }

  TEST_CASE("sim proxy: sessions forward as the proxy's service account impersonating the user") {
    Proxy p;
    std::string jwt = p.SignIn("bob", "bob-pass");
    std::string auth = "Authorization: Bearer Pomerium-" + jwt;
    auto pods = p.Get("/api/v1/namespaces/default/pods", {auth, kKubeUA});
    CHECK(pods.status == 200);
    CHECK(json::parse(pods.body)["items"].size() == 6);
    CHECK_FALSE(pods.Header("x-request-id").empty());
    CHECK(pods.Header("audit-id").size() == 36);  // the API server's own header came through
    // The client's impersonation headers are stripped: still bob.
    auto who =
        HttpsRequest(p.ca, "POST", p.url + "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                     {auth, "Impersonate-User: alice", "Content-Type: application/json"},
                     R"({"kind":"SelfSubjectReview","apiVersion":"authentication.k8s.io/v1"})");
    CHECK(who.status == 201);
    json ui = json::parse(who.body)["status"]["userInfo"];
    CHECK(ui["username"] == "bob");
    CHECK(ui["groups"] == json::array({"viewers", "system:authenticated"}));
    // RBAC of the impersonated user applies, with the apiserver's message.
    auto denied = p.Get("/api/v1/namespaces/prod/pods", {auth, kKubeUA});
    CHECK(denied.status == 403);
    json s = json::parse(denied.body);
    CHECK(s["metadata"] == json::object());
    CHECK(s["message"] ==
          "pods is forbidden: User \"bob\" cannot list resource \"pods\" in API "
          "group \"\" in the namespace \"prod\"");
    CHECK(p.Stats()["forwarded"] == 3);
  }

  TEST_CASE("sim proxy: policy denial in Pomerium's three formats") {
    Proxy p;
    std::string auth = "Authorization: Bearer Pomerium-" + p.SignIn("mallory", "mallory-pass");
    auto kube = p.Get("/api/v1/namespaces/default/pods", {auth, kKubeUA});
    CHECK(kube.status == 403);
    json s = json::parse(kube.body);
    CHECK(s == json({{"kind", "Status"},
                     {"apiVersion", "v1"},
                     {"status", "Failure"},
                     {"message", "Forbidden"},
                     {"reason", "Forbidden"},
                     {"code", 403}}));
    CHECK_FALSE(s.contains("metadata"));
    std::string id = kube.Header("x-request-id");
    CHECK(id.size() == 32);

    auto js = p.Get("/api/v1/namespaces/default/pods", {auth, "Accept: application/json"});
    CHECK(js.status == 403);
    json j = json::parse(js.body);
    CHECK(j["error"] == "Forbidden");
    CHECK(j["request_id"] == js.Header("x-request-id"));

    auto html = p.Get("/api/v1/namespaces/default/pods", {auth, "Accept: text/html"});
    CHECK(html.status == 403);
    CHECK(html.Header("x-pomerium-intercepted-response") == "true");
    CHECK(html.Header("content-type").rfind("text/html", 0) == 0);
    CHECK(html.body.find(html.Header("x-request-id")) != std::string::npos);
    CHECK(p.Stats()["denied"] == 3);
    // erin is admitted by her group (developers), not by name.
    CHECK(p.Get("/version",
                {"Authorization: Bearer Pomerium-" + p.SignIn("erin", "erin-pass"), kKubeUA})
              .status == 200);
  }

  TEST_CASE("sim proxy: 401 for missing, invalid and revoked sessions; health answers anyway") {
    Proxy p;
    CHECK(p.Get("/version", {kKubeUA}).status == 401);
    auto bad = p.Get("/version", {"Authorization: Bearer Pomerium-abc.def.ghi", kKubeUA});
    CHECK(bad.status == 401);
    CHECK(json::parse(bad.body)["message"] == "Unauthorized");
    CHECK(p.Get("/version", {"Authorization: Bearer alice-token", kKubeUA}).status == 401);
    auto browser = p.Get("/api/v1/pods", {"Accept: text/html"});
    CHECK(browser.status == 302);
    CHECK(browser.Header("location").find("/.pomerium/sign_in?pomerium_redirect_uri=") !=
          std::string::npos);

    for (const char* path : {"/healthz", "/ping"}) {
      CHECK(p.Get(path, {"Authorization: Bearer Pomerium-garbage"}).status == 200);
      CHECK(p.Get(path).status == 200);
    }
    CHECK(p.Get("/.pomerium/user", {"Accept: application/json"}).status == 401);

    std::string a1 = p.SignIn("alice", "alice-pass");
    std::string a2 = p.SignIn("alice", "alice-pass");
    std::string b1 = p.SignIn("bob", "bob-pass");
    auto user = p.Get("/.pomerium/user", {"Authorization: Bearer Pomerium-" + a1});
    CHECK(user.status == 200);
    json u = json::parse(user.body);
    CHECK(u["email"] == "alice@example.com");
    CHECK(u["user"] == "alice");
    std::string jti = u["session_id"];

    // Revoke one session by jti, then every session of a user, then all.
    CHECK(HttpsRequest(p.ca, "POST", p.url + "/.sim/revoke", {}, json({{"jti", jti}}).dump())
              .status == 200);
    CHECK(p.Get("/version", {"Authorization: Bearer Pomerium-" + a1, kKubeUA}).status == 401);
    CHECK(p.Get("/version", {"Authorization: Bearer Pomerium-" + a2, kKubeUA}).status == 200);
    HttpsRequest(p.ca, "POST", p.url + "/.sim/revoke", {}, R"({"user":"alice"})");
    CHECK(p.Get("/version", {"Authorization: Bearer Pomerium-" + a2, kKubeUA}).status == 401);
    CHECK(p.Get("/version", {"Authorization: Bearer Pomerium-" + b1, kKubeUA}).status == 200);
    // Only the sessions minted so far: alice may sign in again.
    CHECK(p.Get("/version",
                {"Authorization: Bearer Pomerium-" + p.SignIn("alice", "alice-pass"), kKubeUA})
              .status == 200);
    HttpsRequest(p.ca, "POST", p.url + "/.sim/revoke", {}, "");
    CHECK(p.Get("/version", {"Authorization: Bearer Pomerium-" + b1, kKubeUA}).status == 401);
    CHECK(p.Get("/version",
                {"Authorization: Bearer Pomerium-" + p.SignIn("bob", "bob-pass"), kKubeUA})
              .status == 200);
    CHECK(HttpsRequest(p.ca, "POST", p.url + "/.sim/revoke", {}, "[").status == 400);
    CHECK(p.Get("/.sim/revoke").status == 405);
    CHECK(p.Stats()["unauthenticated"].get<int>() >= 7);
  }

  TEST_CASE("sim proxy: upgrades are refused per route or relayed to the API server") {
    Proxy p;
    std::string auth = "Authorization: Bearer Pomerium-" + p.SignIn("carol", "carol-pass");
    const std::string exec =
        "/api/v1/namespaces/default/pods/web-7d9f5c6b8-abcde/exec?command=sh&stdout=true";
    std::vector<std::string> ws = {auth,
                                   kKubeUA,
                                   "Connection: Upgrade",
                                   "Upgrade: websocket",
                                   "Sec-WebSocket-Version: 13",
                                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                                   "Sec-WebSocket-Protocol: v5.channel.k8s.io"};
    std::vector<std::string> spdy = {auth, kKubeUA, "Connection: Upgrade", "Upgrade: SPDY/3.1",
                                     "X-Stream-Protocol-Version: v4.channel.k8s.io"};
    // Default route: the upgrade reaches the API server, whose RBAC refuses carol's GET.
    auto ws_default = p.Get(exec, ws);
    CHECK(ws_default.status == 403);
    CHECK(json::parse(ws_default.body)["message"].get<std::string>().find(
              "User \"carol\" cannot get resource \"pods/exec\"") != std::string::npos);
    // The no-websocket route refuses WebSocket with a bare 403 but passes SPDY on.
    std::string nows = p.sim->proxy_url("no-websocket");
    auto refused = p.Get(exec, ws, nows);
    CHECK(refused.status == 403);
    CHECK(refused.body.empty());
    CHECK_FALSE(refused.Header("x-request-id").empty());
    auto spdy_reply = HttpsRequest(p.ca, "POST", nows + exec, spdy, "");
    CHECK(spdy_reply.status != 403);
    CHECK_FALSE(spdy_reply.Header("x-request-id").empty());
    // The no-spdy route: the reverse.
    std::string nospdy = p.sim->proxy_url("no-spdy");
    auto spdy_refused = HttpsRequest(p.ca, "POST", nospdy + exec, spdy, "");
    CHECK(spdy_refused.status == 403);
    CHECK(spdy_refused.body.empty());
    CHECK(p.Get(exec, ws, nospdy).status == 403);  // RBAC (carol, GET) — a Status body this time
    CHECK_FALSE(p.Get(exec, ws, nospdy).body.empty());
  }
}

}  // namespace kproxy::test
