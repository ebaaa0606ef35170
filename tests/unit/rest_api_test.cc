// ApiClient: JSON reads with kubectl's error mapping, pagination, malformed answers.
#include <doctest/doctest.h>

#include <deque>
#include <nlohmann/json.hpp>

#include "core/rest/api_client.h"
#include "tests/support/https_server.h"

namespace kproxy {
namespace {

// Records requests and answers from a script, in order.
class FakeHttp : public HttpClient {
 public:
  std::deque<Result<HttpResponse>> script;
  std::vector<std::string> paths;
  Result<HttpResponse> Do(const HttpRequest& req) override {
    paths.push_back(req.path);
    if (script.empty()) return MakeError(ErrorCode::kInternal, "fake: no scripted response");
    auto r = script.front();
    script.pop_front();
    return r;
  }
};

HttpResponse Json(int status, std::string body, std::string type = "application/json") {
  HttpResponse r;
  r.status = status;
  r.headers = {{"Content-Type", type}};
  r.body = std::move(body);
  return r;
}

TEST_CASE("rest api: ListPods follows continue tokens and escapes the selector") {
  FakeHttp http;
  http.script.push_back(Json(
      200,
      R"({"kind":"PodList","metadata":{"resourceVersion":"10","continue":"tok/1=="},"items":[{"metadata":{"name":"a"}}]})"));
  http.script.push_back(Json(
      200,
      R"({"kind":"PodList","metadata":{"resourceVersion":"11"},"items":[{"metadata":{"name":"b"}}]})"));
  ApiClient api(http);
  auto list = api.ListPods("team a", "app in (web, api),tier!=db");
  REQUIRE(list.ok());
  REQUIRE(http.paths.size() == 2);
  CHECK(http.paths[0] ==
        "/api/v1/namespaces/team%20a/"
        "pods?limit=500&labelSelector=app+in+%28web%2C+api%29%2Ctier%21%3Ddb");
  CHECK(http.paths[1] ==
        "/api/v1/namespaces/team%20a/"
        "pods?limit=500&labelSelector=app+in+%28web%2C+api%29%2Ctier%21%3Ddb"
        "&continue=tok%2F1%3D%3D");
  REQUIRE((*list)["items"].size() == 2);
  CHECK((*list)["items"][1]["metadata"]["name"] == "b");
  CHECK((*list)["kind"] == "PodList");
  CHECK((*list)["metadata"]["resourceVersion"] == "11");
}

TEST_CASE("rest api: all namespaces uses /api/v1/pods; null items is an empty list") {
  FakeHttp http;
  http.script.push_back(Json(200, R"({"kind":"PodList","metadata":{},"items":null})"));
  ApiClient api(http);
  auto list = api.ListPods("", "");
  REQUIRE(list.ok());
  CHECK(http.paths[0] == "/api/v1/pods?limit=500");
  CHECK((*list)["items"].empty());
}

TEST_CASE("rest api: GetPod NotFound is kubectl's line") {
  FakeHttp http;
  http.script.push_back(Json(
      404,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"pods"},"code":404})"));
  ApiClient api(http);
  auto pod = api.GetPod("default", "x");
  REQUIRE_FALSE(pod.ok());
  CHECK(pod.error().code == ErrorCode::kNotFound);
  CHECK(pod.error().message == R"(Error from server (NotFound): pods "x" not found)");
  CHECK(http.paths[0] == "/api/v1/namespaces/default/pods/x");
}

TEST_CASE("rest api: malformed answers are clear errors, never crashes") {
  struct Case {
    HttpResponse resp;
    ErrorCode code;
    const char* needle;
  };
  std::vector<Case> cases = {
      {Json(200, R"({"kind":"PodList","items":[{"metadata":{"na)"), ErrorCode::kProtocol,
       "not valid JSON"},
      {Json(200, "<html><body>Sign in</body></html>", "text/html; charset=utf-8"),
       ErrorCode::kProtocol, "HTML page instead of JSON"},
      {Json(200, "[]"), ErrorCode::kProtocol, "not an object"},
      {Json(200, R"({"kind":"PodList","items":{"a":1}})"), ErrorCode::kProtocol, "\"items\""},
      {Json(200, R"({"kind":"PodList"})"), ErrorCode::kProtocol, "\"items\""},
      {Json(200, R"({"kind":"PodList","items":[5]})"), ErrorCode::kProtocol, "not an object"},
      {Json(200, R"({"kind":"PodList","items":[{"metadata":{"name":7}}]})"), ErrorCode::kProtocol,
       "metadata.name"},
      {Json(200, R"({"kind":"PodList","items":[{"spec":{}}]})"), ErrorCode::kProtocol,
       "no metadata"},
      {Json(200, ""), ErrorCode::kProtocol, "not valid JSON"},
  };
  for (auto& c : cases) {
    CAPTURE(c.resp.body);
    FakeHttp http;
    http.script.push_back(c.resp);
    ApiClient api(http);
    auto r = api.ListPods("default", "");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == c.code);
    CHECK(r.error().message.find(c.needle) != std::string::npos);
  }
}

TEST_CASE("rest api: a redirect means the session is gone; transport errors pass through") {
  FakeHttp http;
  HttpResponse redirect;
  redirect.status = 302;
  redirect.headers = {{"Location", "https://authenticate.example.com/sign_in"}};
  http.script.push_back(redirect);
  http.script.push_back(Error{ErrorCode::kUnavailable, "Unable to connect to the server x: y"});
  ApiClient api(http);
  auto r = api.GetPod("default", "p");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kUnauthenticated);
  CHECK(r.error().message.find("https://authenticate.example.com/sign_in") != std::string::npos);
  auto t = api.GetPod("default", "p");
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().code == ErrorCode::kUnavailable);
}

TEST_CASE("rest api: Status errors over real HTTPS become kubectl text") {
  test::HttpsServer server({}, [](const test::RecordedRequest& req) {
    if (req.target.find("/pods/forbidden") != std::string::npos) {
      return test::ScriptedResponse{
          403,
          {},
          R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"forbidden\" is forbidden: User \"jane\" cannot get resource \"pods\" in API group \"\" in the namespace \"default\"","reason":"Forbidden","details":{"name":"forbidden","kind":"pods"},"code":403})"};
    }
    return test::ScriptedResponse{200, {}, R"({"kind":"Pod","metadata":{"name":"ok"}})"};
  });
  RestConfig c;
  c.server = server.url();
  c.ca_data = test::TestPki::Get().ca.cert;
  auto http = MakeCurlHttpClient(c);
  ApiClient api(*http);
  auto ok = api.GetPod("default", "ok");
  REQUIRE(ok.ok());
  CHECK((*ok)["metadata"]["name"] == "ok");
  auto denied = api.GetPod("default", "forbidden");
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.error().code == ErrorCode::kForbidden);
  CHECK(denied.error().message ==
        R"(Error from server (Forbidden): pods "forbidden" is forbidden: User "jane" cannot get )"
        R"(resource "pods" in API group "" in the namespace "default")");
}

TEST_CASE("rest api: path segments are percent-encoded") {
  CHECK(PathEscape("a b") == "a%20b");
  CHECK(PathEscape("web-1.x_y~") == "web-1.x_y~");
}

}  // namespace
}  // namespace kproxy
