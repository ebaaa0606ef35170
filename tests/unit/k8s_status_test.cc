#include <doctest/doctest.h>

#include <string>

#include "core/k8s/status.h"
#include "tests/support/test_env.h"
#include "tests/support/transcript.h"

namespace kproxy::k8s {
namespace {

// The Status objects the server side of each vector wrote, found by scanning the raw server
// bytes for the JSON text (framing is decoded elsewhere). Independent of our encoder.
std::string ExtractStatusJson(const std::string& bytes) {
  size_t start = bytes.find("{\"metadata\"");
  REQUIRE(start != std::string::npos);
  int depth = 0;
  bool in_string = false;
  for (size_t i = start; i < bytes.size(); ++i) {
    char c = bytes[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{') ++depth;
    if (c == '}' && --depth == 0) return bytes.substr(start, i - start + 1);
  }
  FAIL("unterminated JSON in transcript");
  return "";
}

std::string VectorStatus(const char* name) {
  return ExtractStatusJson(test::LoadTranscript(test::VectorsDir() / name).ServerBytes());
}

}  // namespace

TEST_CASE("status: decodes the kubelet's NonZeroExitCode Status from the vectors") {
  for (auto entry : {std::pair{"spdy-exec-stdin-exit7.kubectl-1.28.transcript", "7"},
                     std::pair{"ws-v5-exec-stdin-exit7.kubectl-1.33.transcript", "7"},
                     std::pair{"spdy-exec-tty-resize-exit5.kubectl-1.28.transcript", "5"},
                     std::pair{"ws-v5-exec-tty-resize-exit5.kubectl-1.33.transcript", "5"}}) {
    const char* name = entry.first;
    const char* code = entry.second;
    CAPTURE(name);
    Result<ApiStatus> s = DecodeStatus(VectorStatus(name));
    REQUIRE(s.ok());
    CHECK(s->has_metadata);
    CHECK(s->status == "Failure");
    CHECK(s->reason == "NonZeroExitCode");
    CHECK(s->message ==
          std::string("command terminated with non-zero exit code: exit status ") + code);
    REQUIRE(s->details.has_value());
    REQUIRE(s->details->causes.size() == 1);
    CHECK(s->details->causes[0].reason == "ExitCode");
    CHECK(s->details->causes[0].message == code);
    CHECK(s->code == 0);
  }
}

TEST_CASE("status: decodes the Success Status from the vectors") {
  Result<ApiStatus> s = DecodeStatus(VectorStatus("ws-v5-exec-success.kubectl-1.33.transcript"));
  REQUIRE(s.ok());
  CHECK(s->status == "Success");
  CHECK(s->has_metadata);
  CHECK_FALSE(s->details.has_value());
}

TEST_CASE("status: a full API server Status") {
  Result<ApiStatus> s = DecodeStatus(
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"pods \"web\" is forbidden: User \"alice\" cannot create resource \"pods/exec\"",)"
      R"("reason":"Forbidden","details":{"name":"web","kind":"pods","retryAfterSeconds":3},"code":403})");
  REQUIRE(s.ok());
  CHECK(s->kind == "Status");
  CHECK(s->api_version == "v1");
  CHECK(s->reason == "Forbidden");
  CHECK(s->code == 403);
  CHECK(s->details->name == "web");
  CHECK(s->details->kind == "pods");
  CHECK(s->details->retry_after_seconds == 3);
  CHECK(s->message.find("pods \"web\" is forbidden") == 0);
}

TEST_CASE("status: missing fields, nulls and unknown fields are tolerated") {
  Result<ApiStatus> s = DecodeStatus(R"({"status":"Failure","message":"Forbidden","code":403})");
  REQUIRE(s.ok());
  CHECK_FALSE(s->has_metadata);  // Pomerium's format: no metadata
  CHECK(s->reason.empty());
  s = DecodeStatus(R"({"metadata":null,"status":null,"details":null,"extra":[1,{"a":2}]})");
  REQUIRE(s.ok());
  CHECK_FALSE(s->has_metadata);
  CHECK(s->status.empty());
  CHECK_FALSE(s->details.has_value());
  s = DecodeStatus("null");
  REQUIRE(s.ok());
  CHECK(s->status.empty());
  s = DecodeStatus(R"({"details":{"causes":[null,{"reason":"ExitCode"}]}})");
  REQUIRE(s.ok());
  CHECK(s->details->causes.size() == 2);
  CHECK(s->details->causes[1].reason == "ExitCode");
}

TEST_CASE("status: field names match case-insensitively like Go's json.Unmarshal") {
  Result<ApiStatus> s = DecodeStatus(R"({"STATUS":"Success","Message":"m","CODE":200})");
  REQUIRE(s.ok());
  CHECK(s->status == "Success");
  CHECK(s->message == "m");
  CHECK(s->code == 200);
}

TEST_CASE("status: wrong types are defined errors") {
  for (const char* bad :
       {R"({"status":5})", R"({"message":true})", R"({"reason":{}})", R"({"code":"403"})",
        R"({"code":1.5})", R"({"code":99999999999})", R"({"code":-99999999999})",
        R"({"metadata":"x"})", R"({"details":[]})", R"({"details":{"causes":{}}})",
        R"({"details":{"causes":["x"]}})", R"({"details":{"causes":[{"message":3}]}})",
        R"({"details":{"retryAfterSeconds":"1"}})", R"({"kind":1})", R"([])", R"("Success")",
        R"(42)", R"(true)"}) {
    CAPTURE(bad);
    Result<ApiStatus> s = DecodeStatus(bad);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == ErrorCode::kProtocol);
    CHECK_FALSE(s.error().message.empty());
  }
}

TEST_CASE("status: every truncation of a valid Status is an error, never a crash") {
  std::string full = VectorStatus("spdy-exec-stdin-exit7.kubectl-1.28.transcript");
  for (size_t n = 0; n < full.size(); ++n) {
    CAPTURE(n);
    Result<ApiStatus> s = DecodeStatus(std::string_view(full).substr(0, n));
    CHECK_FALSE(s.ok());
  }
  CHECK(DecodeStatus(full).ok());
}

TEST_CASE("status: malformed, oversized and deeply nested input is refused") {
  for (std::string bad : {std::string(""), std::string("{"), std::string("{\"status\":\"Suc"),
                          std::string("{}{}"), std::string("{\"a\":1,}"), std::string("\xff\xfe"),
                          std::string(200, '[') + std::string(200, ']'),
                          "{\"x\":" + std::string(100, '{') + std::string(100, '}') + "}"}) {
    CAPTURE(bad.substr(0, 20));
    CHECK_FALSE(DecodeStatus(bad).ok());
  }
  std::string huge = "{\"message\":\"" + std::string(kMaxStatusBytes, 'a') + "\"}";
  Result<ApiStatus> s = DecodeStatus(huge);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message.find("too large") != std::string::npos);
  // Braces inside strings do not count as nesting.
  CHECK(DecodeStatus("{\"message\":\"" + std::string(500, '{') + "\"}").ok());
}

TEST_CASE("status: kubectl's error text") {
  ApiStatus s;
  s.reason = "Forbidden";
  s.message = "pods \"web\" is forbidden: User \"alice\" cannot create resource \"pods/exec\"";
  CHECK(KubectlErrorText(s) ==
        "Error from server (Forbidden): pods \"web\" is forbidden: User \"alice\" cannot create "
        "resource \"pods/exec\"");
  s.reason = "";
  s.message = "Forbidden";
  CHECK(KubectlErrorText(s) == "Error from server: Forbidden");
  s.reason = "Unauthorized";
  s.message = "Unauthorized";
  CHECK(KubectlErrorText(s) == "error: You must be logged in to the server (Unauthorized)");
  s.reason = "NotFound";
  s.message = "pods \"x\" not found";
  CHECK(KubectlErrorText(s) == "Error from server (NotFound): pods \"x\" not found");
}

TEST_CASE("status: encodes what the kubelet writes") {
  // Expected bytes are literal: the vectors' layout with the kubelet's CRI message text.
  CHECK(EncodeStatus(SuccessStatus()) == R"({"metadata":{},"status":"Success"})");
  CHECK(EncodeStatus(NonZeroExitCodeStatus(3, {"sh", "-c", "exit 3"})) ==
        R"({"metadata":{},"status":"Failure","message":"command terminated with non-zero exit )"
        R"(code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode",)"
        R"("details":{"causes":[{"reason":"ExitCode","message":"3"}]}})");
  CHECK(EncodeStatus(FailureStatus("InternalError", "Internal error occurred: boom", 500)) ==
        R"({"metadata":{},"status":"Failure","message":"Internal error occurred: boom",)"
        R"("reason":"InternalError","code":500})");
}

TEST_CASE("status: encoder escapes like Go and survives invalid UTF-8") {
  ApiStatus s = FailureStatus("BadRequest", "a<b>&c \"q\"\n\x01", 400);
  CHECK(EncodeStatus(s) ==
        R"({"metadata":{},"status":"Failure","message":"a\u003cb\u003e\u0026c \"q\"\n\u0001",)"
        R"("reason":"BadRequest","code":400})");
  s.message = "bad \xff byte";
  std::string out = EncodeStatus(s);
  CHECK(out.find("bad \xEF\xBF\xBD byte") != std::string::npos);
  CHECK(DecodeStatus(out).ok());
}

TEST_CASE("status: encode then decode keeps every field") {
  ApiStatus s = NonZeroExitCodeStatus(255, {"false"});
  s.kind = "Status";
  s.api_version = "v1";
  s.code = 500;
  s.details->name = "n";
  s.details->uid = "u";
  s.details->retry_after_seconds = 9;
  s.details->causes.push_back({"FieldValueInvalid", "bad", "spec.x"});
  Result<ApiStatus> d = DecodeStatus(EncodeStatus(s));
  REQUIRE(d.ok());
  CHECK(d->kind == "Status");
  CHECK(d->api_version == "v1");
  CHECK(d->code == 500);
  CHECK(d->message == s.message);
  CHECK(d->details->name == "n");
  CHECK(d->details->uid == "u");
  CHECK(d->details->retry_after_seconds == 9);
  REQUIRE(d->details->causes.size() == 2);
  CHECK(d->details->causes[0].message == "255");
  CHECK(d->details->causes[1].field == "spec.x");
}

}  // namespace kproxy::k8s
