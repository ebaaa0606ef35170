#include <doctest/doctest.h>

#include <string>

#include "core/remotecommand/error_decoder.h"
#include "tests/support/test_env.h"
#include "tests/support/transcript.h"

namespace kproxy::remotecommand {
namespace {

constexpr const char* kExit3 =
    R"({"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: )"
    R"(error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode",)"
    R"("details":{"causes":[{"reason":"ExitCode","message":"3"}]}})";

std::string NonZero(const std::string& causes) {
  return R"({"metadata":{},"status":"Failure","message":"m","reason":"NonZeroExitCode",)"
         R"("details":{"causes":)" +
         causes + "}}";
}

// The Status text in a transcript's server bytes, found by a plain scan (no framing decoded).
std::string StatusInVector(const char* name) {
  std::string bytes = test::LoadTranscript(test::VectorsDir() / name).ServerBytes();
  size_t start = bytes.find("{\"metadata\"");
  REQUIRE(start != std::string::npos);
  size_t end = bytes.find("}]}}", start);
  if (end != std::string::npos) return bytes.substr(start, end + 4 - start);
  end = bytes.find("\"Success\"}", start);
  REQUIRE(end != std::string::npos);
  return bytes.substr(start, end + 10 - start);
}

}  // namespace

TEST_CASE("error stream v4: success forms") {
  for (std::string payload : {std::string(""), std::string(R"({"metadata":{},"status":"Success"})"),
                              std::string(R"({"status":"Success","message":"ignored"})")}) {
    CAPTURE(payload);
    Result<ExecResult> r = DecodeErrorStreamV4(payload);
    REQUIRE(r.ok());
    CHECK(r->exit_code == 0);
    CHECK(r->message.empty());
  }
}

TEST_CASE("error stream v4: NonZeroExitCode gives the exit code and kubectl's text") {
  for (auto entry : {std::pair{"0", 0}, std::pair{"1", 1}, std::pair{"3", 3}, std::pair{"255", 255},
                     std::pair{"007", 7}}) {
    const char* cause = entry.first;
    int code = entry.second;
    CAPTURE(cause);
    Result<ExecResult> r = DecodeErrorStreamV4(
        NonZero(std::string(R"([{"reason":"ExitCode","message":")") + cause + "\"}]"));
    REQUIRE(r.ok());
    CHECK(r->exit_code == code);
    CHECK(r->message == "command terminated with exit code " + std::to_string(code));
  }
  Result<ExecResult> r = DecodeErrorStreamV4(kExit3);
  REQUIRE(r.ok());
  CHECK(r->exit_code == 3);
  CHECK(r->message == "command terminated with exit code 3");
  // The first cause whose reason is ExitCode wins; others are skipped.
  r = DecodeErrorStreamV4(
      NonZero(R"([{"reason":"Other","message":"9"},{"reason":"ExitCode","message":"4"},)"
              R"({"reason":"ExitCode","message":"5"}])"));
  REQUIRE(r.ok());
  CHECK(r->exit_code == 4);
}

TEST_CASE("error stream v4: protocol errors with client-go's messages") {
  struct Case {
    std::string payload;
    std::string message;
  };
  const Case cases[] = {
      {NonZero("[]"), "error stream protocol error: no ExitCode cause given"},
      {NonZero(R"([{"reason":"Other","message":"1"}])"),
       "error stream protocol error: no ExitCode cause given"},
      {R"({"status":"Failure","reason":"NonZeroExitCode","message":"m"})",
       "error stream protocol error: details must be set"},
      {NonZero(R"([{"reason":"ExitCode","message":"256"}])"),
       "error stream protocol error: invalid exit code value \"256\""},
      {NonZero(R"([{"reason":"ExitCode","message":"-1"}])"),
       "error stream protocol error: invalid exit code value \"-1\""},
      {NonZero(R"([{"reason":"ExitCode","message":"abc"}])"),
       "error stream protocol error: invalid exit code value \"abc\""},
      {NonZero(R"([{"reason":"ExitCode","message":""}])"),
       "error stream protocol error: invalid exit code value \"\""},
      {NonZero(R"([{"reason":"ExitCode","message":" 3"}])"),
       "error stream protocol error: invalid exit code value \" 3\""},
      {NonZero(R"([{"reason":"ExitCode","message":"99999999999999999999"}])"),
       "error stream protocol error: invalid exit code value \"99999999999999999999\""},
      {NonZero(R"([{"reason":"ExitCode"}])"),
       "error stream protocol error: invalid exit code value \"\""},
      {R"({"status":"Weird"})", "error stream protocol error: unknown error"},
      {R"({"metadata":{}})", "error stream protocol error: unknown error"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.payload);
    Result<ExecResult> r = DecodeErrorStreamV4(c.payload);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kProtocol);
    CHECK(r.error().message == c.message);
  }
}

TEST_CASE("error stream v4: malformed JSON names the payload") {
  for (std::string bad : {std::string("{"), std::string("not json"), std::string("{\"status\":1}"),
                          std::string("\x01\xff\"")}) {
    CAPTURE(bad);
    Result<ExecResult> r = DecodeErrorStreamV4(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kProtocol);
    CHECK(r.error().message.rfind("error stream protocol error: ", 0) == 0);
    CHECK(r.error().message.find(" in \"") != std::string::npos);
  }
  // Control bytes of a hostile payload never reach the message raw.
  Result<ExecResult> r = DecodeErrorStreamV4("\x1b[2J{");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find('\x1b') == std::string::npos);
  CHECK(r.error().message.find("\\x1b[2J{") != std::string::npos);
}

TEST_CASE("error stream v4: another Failure is an error with the server's message") {
  Result<ExecResult> r = DecodeErrorStreamV4(
      R"({"metadata":{},"status":"Failure","message":"Internal error occurred: error executing )"
      R"(command in container: container not found","reason":"InternalError","code":500})");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kServer);
  CHECK(r.error().message ==
        "Internal error occurred: error executing command in container: container not found");
}

TEST_CASE("error stream v1-v3: plain text") {
  CHECK(DecodeErrorStreamV1("").ok());
  CHECK(DecodeErrorStreamV2("").ok());
  Result<ExecResult> r = DecodeErrorStreamV1("command terminated with non-zero exit code: 3");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        "Error executing remote command: command terminated with non-zero exit code: 3");
  r = DecodeErrorStreamV2("boom");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kServer);
  CHECK(r.error().message == "error executing remote command: boom");
  // A v3 client does not interpret JSON: the text is the error.
  r = DecodeErrorStream(ProtocolVersion::kV3, kExit3);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == std::string("error executing remote command: ") + kExit3);
}

TEST_CASE("error stream: dispatch by version") {
  CHECK_FALSE(DecodeErrorStream(ProtocolVersion::kV1, "x").ok());
  CHECK_FALSE(DecodeErrorStream(ProtocolVersion::kV2, "x").ok());
  CHECK(DecodeErrorStream(ProtocolVersion::kV4, kExit3)->exit_code == 3);
  CHECK(DecodeErrorStream(ProtocolVersion::kV5, kExit3)->exit_code == 3);
  CHECK(ExitCodeMessage(42) == "command terminated with exit code 42");
}

TEST_CASE("error stream: the Status payloads of real sessions") {
  struct Case {
    const char* name;
    int exit_code;
  };
  for (Case c : {Case{"spdy-exec-stdin-exit7.kubectl-1.28.transcript", 7},
                 Case{"ws-v5-exec-stdin-exit7.kubectl-1.33.transcript", 7},
                 Case{"spdy-exec-tty-resize-exit5.kubectl-1.28.transcript", 5},
                 Case{"ws-v5-exec-tty-resize-exit5.kubectl-1.33.transcript", 5},
                 Case{"ws-v5-exec-success.kubectl-1.33.transcript", 0}}) {
    CAPTURE(c.name);
    Result<ExecResult> r = DecodeErrorStreamV4(StatusInVector(c.name));
    REQUIRE(r.ok());
    CHECK(r->exit_code == c.exit_code);
    CHECK(r->message.empty() == (c.exit_code == 0));
  }
}

}  // namespace kproxy::remotecommand
