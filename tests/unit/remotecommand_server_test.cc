#include <doctest/doctest.h>

#include <memory>
#include <optional>

#include "core/remotecommand/server_streams.h"
#include "core/remotecommand/stream_protocol.h"
#include "tests/support/fake_stream_connection.h"

namespace kproxy::remotecommand {
namespace {

using test::FakeStreamConnection;

struct NullHandler : StreamHandler {
  void OnData(std::string_view) override {}
  void OnRemoteClose() override {}
  void OnReset(std::string_view) override {}
};

}  // namespace

TEST_CASE("server: the promised streams per version and options") {
  using V = std::vector<std::string>;
  CHECK(ExpectedStreamTypes(ProtocolVersion::kV4, {true, true, true, false}) ==
        V{"error", "stdin", "stdout", "stderr"});
  CHECK(ExpectedStreamTypes(ProtocolVersion::kV4, {true, true, true, true}) ==
        V{"error", "stdin", "stdout", "resize"});
  CHECK(ExpectedStreamTypes(ProtocolVersion::kV2, {true, true, false, true}) ==
        V{"error", "stdin", "stdout"});
  CHECK(ExpectedStreamTypes(ProtocolVersion::kV1, {false, true, true, false}) ==
        V{"error", "stdout", "stderr"});
  // The server's expectation and the client's plan agree for every combination.
  for (int v = 1; v <= 5; ++v) {
    for (int bits = 0; bits < 16; ++bits) {
      StreamOptions o{(bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0, (bits & 8) != 0};
      FakeStreamConnection conn;
      auto client = NewStreamProtocol(static_cast<ProtocolVersion>(v), &conn, o, {});
      CHECK(client->StreamTypes() == ExpectedStreamTypes(static_cast<ProtocolVersion>(v), o));
    }
  }
}

TEST_CASE("server: tracker completes on exactly the promised streams, in any order") {
  StreamTracker t(ProtocolVersion::kV4, {true, true, false, true});
  CHECK(t.Missing() == std::vector<std::string>{"error", "stdin", "stdout", "resize"});
  CHECK(t.Add("resize", 7).ok());
  CHECK(t.Add("error", 1).ok());
  CHECK_FALSE(t.Complete());
  CHECK(t.Missing() == std::vector<std::string>{"stdin", "stdout"});
  Status dup = t.Add("error", 9);
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().message == "duplicate stream type: \"error\"");
  Status unexpected = t.Add("stderr", 11);  // tty: stderr was not promised
  REQUIRE_FALSE(unexpected.ok());
  CHECK(unexpected.error().message == "unexpected stream type: \"stderr\"");
  CHECK(t.Add("stdout", 5).ok());
  CHECK_FALSE(t.Complete());
  CHECK(t.Add("stdin", 3).ok());
  CHECK(t.Complete());
  CHECK(t.Missing().empty());
  REQUIRE(t.Find("error") != nullptr);
  CHECK(*t.Find("error") == 1);
  CHECK(t.Find("stderr") == nullptr);
}

TEST_CASE("server: final status payload per version") {
  k8s::ApiStatus exit3 = k8s::NonZeroExitCodeStatus(3, {"sh", "-c", "exit 3"});
  CHECK(ErrorStreamPayload(ProtocolVersion::kV1, k8s::SuccessStatus()).empty());
  CHECK(ErrorStreamPayload(ProtocolVersion::kV3, k8s::SuccessStatus()).empty());
  CHECK(ErrorStreamPayload(ProtocolVersion::kV2, exit3) ==
        "command terminated with non-zero exit code: error executing command [sh -c exit 3], "
        "exit code 3");
  CHECK(ErrorStreamPayload(ProtocolVersion::kV4, k8s::SuccessStatus()) ==
        R"({"metadata":{},"status":"Success"})");
  CHECK(ErrorStreamPayload(ProtocolVersion::kV5, exit3) == k8s::EncodeStatus(exit3));
}

TEST_CASE("server: writing the final status, then the client decodes it") {
  FakeStreamConnection server_conn;
  NullHandler h;
  server_conn.SetAcceptHandler([&](StreamId, const StreamHeaders&) { return &h; });
  StreamHeaders error_headers;
  error_headers.Set("streamtype", "error");
  REQUIRE(server_conn.PeerOpen(1, error_headers));
  REQUIRE(WriteFinalStatus(&server_conn, 1, ProtocolVersion::kV4,
                           k8s::NonZeroExitCodeStatus(42, {"false"}))
              .ok());
  const auto* s = server_conn.Find(1);
  CHECK(s->write_closed);
  // Round trip into a client (an extra check; the decoder has its own independent tests).
  Result<ExecResult> r = DecodeErrorStream(ProtocolVersion::kV4, s->written);
  REQUIRE(r.ok());
  CHECK(r->exit_code == 42);
  // Success on v1 writes nothing and closes.
  REQUIRE(server_conn.PeerOpen(3, error_headers));
  REQUIRE(WriteFinalStatus(&server_conn, 3, ProtocolVersion::kV1, k8s::SuccessStatus()).ok());
  CHECK(server_conn.Find(3)->written.empty());
  CHECK(server_conn.Find(3)->write_closed);
  // A closed error stream is reported.
  CHECK_FALSE(WriteFinalStatus(&server_conn, 1, ProtocolVersion::kV4, k8s::SuccessStatus()).ok());
}

}  // namespace kproxy::remotecommand
