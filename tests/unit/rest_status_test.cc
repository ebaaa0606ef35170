// Status error bodies → kubectl's text. Expected strings are kubectl 1.32's own output.
#include <doctest/doctest.h>

#include <random>

#include "core/rest/api_status.h"

namespace kproxy {
namespace {

// A real API server's 404 body (kubectl get pod nope -v 8).
constexpr const char* kNotFound =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
    R"("message":"pods \"nope\" not found","reason":"NotFound",)"
    R"("details":{"name":"nope","kind":"pods"},"code":404})";

constexpr const char* kForbidden =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
    R"("message":"pods is forbidden: User \"jane\" cannot list resource \"pods\" in API group )"
    R"(\"\" in the namespace \"kube-system\"","reason":"Forbidden",)"
    R"("details":{"kind":"pods"},"code":403})";

constexpr const char* kUnauthorized =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
    R"("message":"Unauthorized","reason":"Unauthorized","code":401})";

TEST_CASE("rest status: Kubernetes Status bodies become kubectl's line and code") {
  auto nf = ApiErrorFromResponse(404, "application/json", kNotFound, {"get", "pods", "nope"});
  CHECK(nf.code == ErrorCode::kNotFound);
  CHECK(nf.message == R"(Error from server (NotFound): pods "nope" not found)");

  auto fb = ApiErrorFromResponse(403, "application/json", kForbidden, {"get", "pods", ""});
  CHECK(fb.code == ErrorCode::kForbidden);
  CHECK(fb.message ==
        R"(Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource )"
        R"("pods" in API group "" in the namespace "kube-system")");

  auto ua = ApiErrorFromResponse(401, "application/json", kUnauthorized, {});
  CHECK(ua.code == ErrorCode::kUnauthenticated);
  CHECK(ua.message == "error: You must be logged in to the server (Unauthorized)");

  auto internal = ApiErrorFromResponse(
      500, "application/json",
      R"({"kind":"Status","metadata":{},"status":"Failure","message":"etcdserver: request timed out","reason":"InternalError","code":500})",
      {});
  CHECK(internal.code == ErrorCode::kServer);
  CHECK(internal.message == "Error from server (InternalError): etcdserver: request timed out");

  auto no_reason = ApiErrorFromResponse(
      422, "application/json", R"({"kind":"Status","status":"Failure","message":"bad thing"})", {});
  CHECK(no_reason.code == ErrorCode::kServer);
  CHECK(no_reason.message == "Error from server: bad thing");
}

TEST_CASE("rest status: ParseApiStatus reads the fields and notices missing metadata") {
  auto s = ParseApiStatus(kForbidden);
  REQUIRE(s.has_value());
  CHECK(s->status == "Failure");
  CHECK(s->reason == "Forbidden");
  CHECK(s->code == 403);
  CHECK(s->has_metadata);
  // Pomerium's policy denial: a Status without metadata.
  auto p = ParseApiStatus(
      R"({"apiVersion":"v1","code":403,"kind":"Status","message":"Forbidden","reason":"Forbidden","status":"Failure"})");
  REQUIRE(p.has_value());
  CHECK_FALSE(p->has_metadata);
  CHECK_FALSE(ParseApiStatus(R"({"kind":"Pod"})").has_value());
  CHECK_FALSE(ParseApiStatus("[1,2]").has_value());
  CHECK_FALSE(ParseApiStatus("").has_value());
}

TEST_CASE("rest status: wrongly typed Status fields are not trusted") {
  for (const char* body : {
           R"({"kind":"Status","message":5,"reason":"NotFound"})",
           R"({"kind":"Status","message":"x","reason":["NotFound"]})",
           R"({"kind":"Status","message":"x","code":"404"})",
           R"({"kind":"Status","message":"x","code":4.5})",
           R"({"kind":"Status","message":"x","metadata":"yes"})",
           R"({"kind":7})",
           R"({"kind":"Status","message":"x","code":4294967296})",
       }) {
    CAPTURE(body);
    CHECK_FALSE(ParseApiStatus(body).has_value());
    auto e = ApiErrorFromResponse(404, "application/json", body, {"get", "pods", "x"});
    CHECK(e.code == ErrorCode::kNotFound);
    CHECK(e.message ==
          "Error from server (NotFound): the server could not find the requested resource (get "
          "pods x)");
  }
}

TEST_CASE("rest status: decoding follows Go's json.Unmarshal") {
  // int32 accepts negatives; field names match case-insensitively.
  auto neg = ParseApiStatus(R"({"kind":"Status","message":"x","code":-1})");
  REQUIRE(neg.has_value());
  CHECK(neg->code == -1);
  auto ci = ParseApiStatus(R"({"kind":"Status","Message":"m","REASON":"Conflict"})");
  REQUIRE(ci.has_value());
  CHECK(ci->message == "m");
  CHECK(ci->reason == "Conflict");
}

TEST_CASE("rest status: non-Status bodies get client-go's generic messages") {
  // HTML from a proxy: text is quoted, on one line.
  auto html =
      ApiErrorFromResponse(403, "text/html; charset=utf-8",
                           "<html>\n  <body>Access denied</body>\n</html>\n", {"get", "pods", ""});
  CHECK(html.code == ErrorCode::kForbidden);
  CHECK(html.message ==
        "Error from server (Forbidden): <html> <body>Access denied</body> </html> (get pods)");

  auto bad_gateway = ApiErrorFromResponse(502, "text/plain", "upstream connect error\n", {});
  CHECK(bad_gateway.code == ErrorCode::kServer);
  CHECK(bad_gateway.message ==
        R"(Error from server (InternalError): an error on the server ("upstream connect error") )"
        "has prevented the request from succeeding");

  auto json_other = ApiErrorFromResponse(403, "application/json",
                                         R"({"error":"Forbidden","request_id":"abc"})", {});
  CHECK(json_other.message == "Error from server (Forbidden): unknown");

  auto teapot = ApiErrorFromResponse(418, "", "", {"get", "pods", "p"});
  CHECK(teapot.code == ErrorCode::kServer);
  CHECK(teapot.message ==
        "Error from server: the server responded with the status code 418 but did not return "
        "more information (get pods p)");

  auto unavailable = ApiErrorFromResponse(503, "application/octet-stream", "\x01\x02", {});
  CHECK(unavailable.message ==
        "Error from server (ServiceUnavailable): the server is currently unable to handle the "
        "request");

  auto unauth = ApiErrorFromResponse(401, "text/plain", "Unauthorized", {});
  CHECK(unauth.code == ErrorCode::kUnauthenticated);
  CHECK(unauth.message ==
        "error: You must be logged in to the server (the server has asked for the client to "
        "provide credentials)");
}

TEST_CASE("rest status: invalid UTF-8 in a quoted body is replaced, not thrown") {
  // Found by tests/fuzz/rest_status_fuzz.cc.
  auto e = ApiErrorFromResponse(502, "", "\x9c\n", {});
  CHECK(e.code == ErrorCode::kServer);
  CHECK(e.message.rfind("Error from server (InternalError): an error on the server (\"", 0) == 0);
}

TEST_CASE("rest status: quoted bodies are capped") {
  std::string huge(1 << 20, 'x');
  auto e = ApiErrorFromResponse(500, "text/plain", huge, {});
  CHECK(e.message.size() < 2200);
}

// The body decoder sees whatever the transport delivered: every truncation of a Status body
// (what a dropped connection leaves) must give a defined answer, never a crash.
TEST_CASE("rest status: every prefix of a Status body decodes to a defined error") {
  std::string body = kNotFound;
  for (size_t n = 0; n <= body.size(); ++n) {
    std::string_view prefix(body.data(), n);
    auto s = ParseApiStatus(prefix);
    CHECK(s.has_value() == (n == body.size()));
    auto e = ApiErrorFromResponse(404, "application/json", prefix, {"get", "pods", "nope"});
    CHECK(e.code == ErrorCode::kNotFound);
    CHECK(e.message.rfind("Error from server (NotFound): ", 0) == 0);
  }
}

TEST_CASE("rest status: random bytes and random mutations never crash") {
  std::mt19937 rng(12345);
  std::string base = kForbidden;
  for (int i = 0; i < 2000; ++i) {
    std::string body = base;
    int edits = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < edits; ++k) body[rng() % body.size()] = static_cast<char>(rng() % 256);
    auto e = ApiErrorFromResponse(static_cast<int>(rng() % 600), "application/json", body, {});
    CHECK_FALSE(e.message.empty());
  }
}

}  // namespace
}  // namespace kproxy
