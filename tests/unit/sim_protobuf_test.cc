// kubectl's protobuf review bodies (captured from kubectl 1.33 in tests/data/sim) decode; every
// truncation and corruption fails cleanly.
#include <doctest/doctest.h>

#include "tests/sim/api/k8s_protobuf.h"
#include "tests/support/test_env.h"

namespace kproxy::sim {

namespace {
std::string Data(const char* name) {
  return test::ReadFileOrDie(test::SourceDir() / "tests" / "data" / "sim" / name);
}
}  // namespace

TEST_CASE("protobuf: kubectl auth can-i create pods/exec -n prod") {
  std::string body = Data("ssar-create-pods-exec-prod.kubectl-1.33.pb");
  auto env = DecodeEnvelope(body);
  REQUIRE(env.ok());
  CHECK(env->api_version == "authorization.k8s.io/v1");
  CHECK(env->kind == "SelfSubjectAccessReview");
  auto j = DecodeReviewRequest(body);
  REQUIRE(j.ok());
  const Json& ra = (*j)["spec"]["resourceAttributes"];
  CHECK(ra["namespace"] == "prod");
  CHECK(ra["verb"] == "create");
  CHECK(ra["resource"] == "pods");
  CHECK(ra["group"] == "");
  // kubectl reads "pods/exec" as TYPE/NAME: the name is "exec", no subresource.
  CHECK(ra["name"] == "exec");
  CHECK(ra["subresource"] == "");
}

TEST_CASE("protobuf: kubectl auth whoami") {
  auto j = DecodeReviewRequest(Data("ssr.kubectl-1.33.pb"));
  REQUIRE(j.ok());
  CHECK((*j)["kind"] == "SelfSubjectReview");
  CHECK((*j)["apiVersion"] == "authentication.k8s.io/v1");
}

TEST_CASE("protobuf: truncations and corruptions fail without crashing") {
  std::string body = Data("ssar-create-pods-exec-prod.kubectl-1.33.pb");
  std::vector<size_t> parsed;
  for (size_t n = 0; n < body.size(); ++n) {
    if (DecodeReviewRequest(body.substr(0, n)).ok()) parsed.push_back(n);
  }
  // Only cuts at field boundaries of the envelope parse: after TypeMeta (4+2+50), after the
  // raw object (+2+64) and after the empty contentEncoding (+2); every other cut fails.
  CHECK(parsed == std::vector<size_t>{56, 122, 124});
  for (size_t i = 4; i < body.size(); ++i) {
    std::string bad = body;
    bad[i] = static_cast<char>(0xff);
    (void)DecodeReviewRequest(bad);  // any result; no crash, no hang
  }
  CHECK_FALSE(DecodeEnvelope("k8s").ok());
  CHECK_FALSE(DecodeEnvelope("{\"kind\":\"x\"}").ok());
  CHECK_FALSE(DecodeEnvelope(std::string("k8s\0\x0a\xff\xff\xff\xff\x0f", 10)).ok());
  CHECK_FALSE(DecodeEnvelope(std::string("k8s\0\x0b", 5)).ok());  // wire type 3 (group)
  ProtoReader r(std::string_view("\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 12));
  CHECK_FALSE(r.Next());
  CHECK(r.failed());
}

}  // namespace kproxy::sim
