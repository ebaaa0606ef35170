#include <doctest/doctest.h>

#include <chrono>

#include "core/portforward/portforward_format.h"
#include "core/portforward/stream_pairing_client.h"
#include "core/portforward/stream_pairing_server.h"
#include "tests/support/fake_stream_connection.h"

namespace kproxy::portforward {
namespace {

using Clock = StreamPairServer::Clock;
using Outcome = PairOutcome::Kind;

StreamHeaders Headers(const char* type, const char* port, const char* request_id) {
  StreamHeaders h;
  if (type) h.Set("streamtype", type);
  if (port) h.Set("port", port);
  if (request_id) h.Set("requestid", request_id);
  return h;
}

const Clock::time_point t0{};

}  // namespace

TEST_CASE("port-forward server: pairs by request id in either order") {
  StreamPairServer server(kStreamCreationTimeout);
  CHECK(server.Add(1, Headers("error", "80", "0"), t0).kind == Outcome::kPending);
  CHECK(server.Add(5, Headers("data", "443", "1"), t0).kind == Outcome::kPending);  // data first
  CHECK(server.pending() == 2);
  PairOutcome p = server.Add(3, Headers("data", "80", "0"), t0);
  REQUIRE(p.kind == Outcome::kComplete);
  CHECK(p.pair.request_id == "0");
  CHECK(p.pair.port == 80);
  CHECK(p.pair.error_stream == 1);
  CHECK(p.pair.data_stream == 3);
  p = server.Add(7, Headers("error", "443", "1"), t0);
  REQUIRE(p.kind == Outcome::kComplete);
  CHECK(p.pair.request_id == "1");
  CHECK(p.pair.port == 443);
  CHECK(p.pair.error_stream == 7);
  CHECK(p.pair.data_stream == 5);
  CHECK(server.pending() == 0);
}

TEST_CASE("port-forward server: header validation with the kubelet's messages") {
  StreamPairServer server(kStreamCreationTimeout);
  struct Case {
    StreamHeaders headers;
    std::string message;
  };
  const Case cases[] = {
      {Headers("data", nullptr, "0"), "\"port\" header is required"},
      {Headers("data", "http", "0"),
       "unable to parse \"http\" as a port: strconv.ParseUint: parsing \"http\": invalid syntax"},
      {Headers("data", "-1", "0"),
       "unable to parse \"-1\" as a port: strconv.ParseUint: parsing \"-1\": invalid syntax"},
      {Headers("data", "65536", "0"),
       "unable to parse \"65536\" as a port: strconv.ParseUint: parsing \"65536\": value out of "
       "range"},
      {Headers("data", "99999999999999999999", "0"),
       "unable to parse \"99999999999999999999\" as a port: strconv.ParseUint: parsing "
       "\"99999999999999999999\": value out of range"},
      {Headers("data", "0", "0"), "port \"0\" must be > 0"},
      {Headers(nullptr, "80", "0"), "\"streamtype\" header is required"},
      {Headers("stdin", "80", "0"), "invalid stream type \"stdin\""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.message);
    PairOutcome o = server.Add(1, c.headers, t0);
    CHECK(o.kind == Outcome::kRejected);
    CHECK(o.message == c.message);
  }
  CHECK(server.pending() == 0);
  CHECK(ValidateStreamHeaders(Headers("error", "65535", "0")).value() == 65535);
}

TEST_CASE("port-forward server: a second stream of the same type is a pair error") {
  StreamPairServer server(kStreamCreationTimeout);
  server.Add(1, Headers("error", "80", "7"), t0);
  PairOutcome o = server.Add(3, Headers("error", "80", "7"), t0);
  REQUIRE(o.kind == Outcome::kPairError);
  CHECK(o.message == "error processing stream for request 7: error stream already assigned");
  REQUIRE(o.error_stream.has_value());
  CHECK(*o.error_stream == 1);
  // The pair still completes with the first error stream.
  PairOutcome done = server.Add(5, Headers("data", "80", "7"), t0);
  REQUIRE(done.kind == Outcome::kComplete);
  CHECK(done.pair.error_stream == 1);
  // Data twice, before any error stream: nowhere to print the message.
  server.Add(9, Headers("data", "80", "8"), t0);
  o = server.Add(11, Headers("data", "80", "8"), t0);
  REQUIRE(o.kind == Outcome::kPairError);
  CHECK(o.message == "error processing stream for request 8: data stream already assigned");
  CHECK_FALSE(o.error_stream.has_value());
}

TEST_CASE("port-forward server: incomplete pairs time out") {
  StreamPairServer server(std::chrono::seconds(30));
  server.Add(1, Headers("error", "80", "0"), t0);
  server.Add(7, Headers("data", "80", "1"), t0 + std::chrono::seconds(20));
  CHECK(server.Expire(t0 + std::chrono::seconds(29)).empty());
  std::vector<ExpiredPair> e = server.Expire(t0 + std::chrono::seconds(30));
  REQUIRE(e.size() == 1);
  CHECK(e[0].request_id == "0");
  CHECK(e[0].error_stream == std::optional<StreamId>(1));
  CHECK_FALSE(e[0].data_stream.has_value());
  CHECK(e[0].message == "(request=0) timed out waiting for streams");
  CHECK(server.pending() == 1);
  e = server.Expire(t0 + std::chrono::seconds(60));
  REQUIRE(e.size() == 1);
  CHECK(e[0].request_id == "1");
  CHECK_FALSE(e[0].error_stream.has_value());
  CHECK(e[0].data_stream == std::optional<StreamId>(7));
  CHECK(server.pending() == 0);
}

TEST_CASE("port-forward server: clients without requestid pair by stream id") {
  StreamPairServer server(kStreamCreationTimeout);
  CHECK(server.Add(5, Headers("error", "80", nullptr), t0).kind == Outcome::kPending);
  PairOutcome o = server.Add(7, Headers("data", "80", nullptr), t0);
  REQUIRE(o.kind == Outcome::kComplete);
  CHECK(o.pair.request_id == "5");
}

TEST_CASE("port-forward: what our client opens, our server pairs") {
  test::FakeStreamConnection conn;
  StreamPairClient client(&conn);
  std::vector<RequestId> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(client.Open(static_cast<uint16_t>(8000 + i), 1, {}));
  // Accept the three error streams, then the data streams appear.
  for (int i = 0; i < 3; ++i) conn.Reply(conn.FindByType("error", std::to_string(i))->id);
  StreamPairServer server(kStreamCreationTimeout);
  std::vector<StreamPair> pairs;
  // Feed the server in reverse order of opening.
  for (auto it = conn.streams().rbegin(); it != conn.streams().rend(); ++it) {
    PairOutcome o = server.Add(it->id, it->headers, t0);
    REQUIRE(o.kind != Outcome::kRejected);
    if (o.kind == Outcome::kComplete) pairs.push_back(o.pair);
  }
  REQUIRE(pairs.size() == 3);
  for (const StreamPair& p : pairs) CHECK(p.port == 8000 + std::stoi(p.request_id));
}

}  // namespace kproxy::portforward
