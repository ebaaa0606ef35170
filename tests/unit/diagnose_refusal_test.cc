#include <doctest/doctest.h>

#include "core/diagnose/refusal.h"

namespace kproxy {
namespace {

RefusedResponse Resp(int status, std::string body, Transport t = Transport::kWebSocket,
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
  RefusedResponse r;
  r.status = status;
  r.body = std::move(body);
  r.transport = t;
  r.headers = std::move(headers);
  return r;
}

RefusalContext Ctx() {
  RefusalContext c;
  c.identity = "alice@example.com";
  c.route = "https://k8s.example.com";
  c.login_command = "kproxy login --server https://k8s.example.com";
  return c;
}

TEST_CASE("RBAC 403 names user, verb, resource, namespace and the rule to add") {
  auto d = ClassifyRefusal(
      Resp(
          403,
          R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"web\" is forbidden: User \"alice\" cannot get resource \"pods/exec\" in API group \"\" in the namespace \"prod\"","reason":"Forbidden","details":{"name":"web","kind":"pods"},"code":403})"),
      Ctx());
  CHECK(d.kind == RefusalKind::kRbac);
  CHECK(d.code == ErrorCode::kForbidden);
  CHECK(d.user == "alice");
  CHECK(d.verb == "get");
  CHECK(d.resource == "pods/exec");
  CHECK(d.namespace_ == "prod");
  CHECK(d.headline ==
        "Error from server (Forbidden): pods \"web\" is forbidden: User \"alice\" cannot get "
        "resource \"pods/exec\" in API group \"\" in the namespace \"prod\"");
  REQUIRE(d.explanation.size() == 2);
  CHECK(d.explanation[1].find("verbs: [\"get\"]") != std::string::npos);
  CHECK(d.explanation[1].find("grant both") != std::string::npos);
}

TEST_CASE("missing impersonation rights are an administrator-side problem") {
  auto d = ClassifyRefusal(
      Resp(
          403,
          R"({"kind":"Status","metadata":{},"status":"Failure","message":"users \"alice\" is forbidden: User \"system:serviceaccount:pomerium:proxy\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope","reason":"Forbidden","code":403})",
          Transport::kRest),
      Ctx());
  CHECK(d.kind == RefusalKind::kImpersonationDenied);
  CHECK(d.user == "system:serviceaccount:pomerium:proxy");
  CHECK(d.explanation[0].find("administrator") != std::string::npos);
}

TEST_CASE("access-proxy policy denials in all three of the proxy's formats") {
  SUBCASE("Status JSON without metadata") {
    auto d = ClassifyRefusal(
        Resp(
            403,
            R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"Forbidden","reason":"Forbidden","code":403})",
            Transport::kWebSocket, {{"X-Request-Id", "req-123"}}),
        Ctx());
    CHECK(d.kind == RefusalKind::kProxyPolicy);
    CHECK(d.request_id == "req-123");
    CHECK(d.explanation[0].find("alice@example.com") != std::string::npos);
    CHECK(d.explanation[1].find("req-123") != std::string::npos);
  }
  SUBCASE("JSON error with request_id") {
    auto d = ClassifyRefusal(Resp(403, R"({"error":"Forbidden","request_id":"abc"})"), Ctx());
    CHECK(d.kind == RefusalKind::kProxyPolicy);
    CHECK(d.request_id == "abc");
  }
  SUBCASE("intercepted HTML") {
    auto d = ClassifyRefusal(Resp(403, "<html>forbidden</html>", Transport::kSpdy,
                                  {{"x-pomerium-intercepted-response", "true"}}),
                             Ctx());
    CHECK(d.kind == RefusalKind::kProxyPolicy);
  }
}

TEST_CASE("an empty 403 on an upgrade means the transport is refused") {
  auto d = ClassifyRefusal(Resp(403, ""), Ctx());
  CHECK(d.kind == RefusalKind::kUpgradeRefused);
  CHECK(d.code == ErrorCode::kUpgradeRejected);
  CHECK(d.headline.find("WebSocket") != std::string::npos);
}

TEST_CASE("stripped Upgrade, expired session, h2, 450, 495, 404, 5xx") {
  CHECK(ClassifyRefusal(Resp(400, "Upgrade request required"), Ctx()).kind ==
        RefusalKind::kUpgradeStripped);
  auto u = ClassifyRefusal(
      Resp(
          401,
          R"({"kind":"Status","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})"),
      Ctx());
  CHECK(u.kind == RefusalKind::kUnauthenticated);
  CHECK(u.code == ErrorCode::kUnauthenticated);
  CHECK(u.explanation[0].find("kproxy login --server") != std::string::npos);
  CHECK(ClassifyRefusal(Resp(302, "", Transport::kRest,
                             {{"Location", "https://authenticate.example.com/oauth2/sign_in"}}),
                        Ctx())
            .kind == RefusalKind::kUnauthenticated);
  RefusedResponse h2;
  h2.alpn_h2 = true;
  CHECK(ClassifyRefusal(h2, Ctx()).kind == RefusalKind::kHttp2Only);
  CHECK(ClassifyRefusal(Resp(450, ""), Ctx()).kind == RefusalKind::kDeviceIdentity);
  CHECK(ClassifyRefusal(Resp(495, ""), Ctx()).kind == RefusalKind::kClientCertRequired);
  auto nf = ClassifyRefusal(
      Resp(
          404,
          R"({"kind":"Status","metadata":{},"message":"pods \"x\" not found","reason":"NotFound","code":404})"),
      Ctx());
  CHECK(nf.kind == RefusalKind::kNotFound);
  CHECK(nf.headline == "Error from server (NotFound): pods \"x\" not found");
  CHECK(ClassifyRefusal(Resp(503, "oops"), Ctx()).code == ErrorCode::kUnavailable);
}

TEST_CASE("malformed bodies never break classification") {
  for (const char* body : {"{", "[1,2]", "null", "{\"message\":5}", "\xff\xfe", "<html>"}) {
    auto d = ClassifyRefusal(Resp(403, body, Transport::kRest), Ctx());
    CHECK(d.code == ErrorCode::kForbidden);
    CHECK(!d.headline.empty());
  }
}

}  // namespace
}  // namespace kproxy
