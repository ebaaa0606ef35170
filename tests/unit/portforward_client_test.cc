#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "core/portforward/portforward_format.h"
#include "core/portforward/stream_pairing_client.h"
#include "tests/support/fake_stream_connection.h"
#include "tests/support/transcript.h"

namespace kproxy::portforward {
namespace {

using test::FakeStreamConnection;
using Kind = FakeStreamConnection::Call::Kind;

// What one forwarded connection saw through its callbacks.
struct Local {
  int ready = 0;
  std::string received;
  int remote_closed = 0;
  std::vector<Error> errors;
  ForwardCallbacks Callbacks() {
    ForwardCallbacks cb;
    cb.on_ready = [this] { ++ready; };
    cb.on_data = [this](std::string_view b) { received.append(b); };
    cb.on_remote_close = [this] { ++remote_closed; };
    cb.on_error = [this](Error e) { errors.push_back(std::move(e)); };
    return cb;
  }
};

FakeStreamConnection::Stream* Stream(FakeStreamConnection& conn, const char* type, RequestId id) {
  return conn.FindByType(type, std::to_string(id));
}

// Opens a connection and accepts both of its streams.
RequestId OpenReady(StreamPairClient& client, FakeStreamConnection& conn, Local& local,
                    uint16_t remote = 80, uint16_t local_port = 8080) {
  RequestId id = client.Open(remote, local_port, local.Callbacks());
  conn.Reply(Stream(conn, "error", id)->id);
  conn.Reply(Stream(conn, "data", id)->id);
  REQUIRE(local.ready == 1);
  return id;
}

}  // namespace

TEST_CASE("port-forward client: error stream first, half-closed at once, then data") {
  FakeStreamConnection conn;
  StreamPairClient client(&conn);
  Local local;
  RequestId id = client.Open(5000, 8888, local.Callbacks());
  CHECK(id == 0);
  CHECK(conn.OpenedTypes() == std::vector<std::string>{"error"});
  const auto& error_headers = conn.streams()[0].headers;
  CHECK(error_headers.pairs.size() == 3);
  CHECK(error_headers.Get("streamtype") == "error");
  CHECK(error_headers.Get("port") == "5000");
  CHECK(error_headers.Get("requestid") == "0");
  CHECK_FALSE(client.Write(id, "too early"));

  conn.Reply(1);
  // The error stream is closed for writing before the data stream is even requested.
  REQUIRE(conn.calls().size() >= 3);
  CHECK(conn.calls()[1].kind == Kind::kCloseWrite);
  CHECK(conn.calls()[1].id == 1);
  CHECK(conn.calls()[2].kind == Kind::kOpen);
  CHECK(conn.calls()[2].data == "data");
  const auto& data_headers = conn.streams()[1].headers;
  CHECK(data_headers.pairs.size() == 3);
  CHECK(data_headers.Get("streamtype") == "data");
  CHECK(data_headers.Get("port") == "5000");
  CHECK(data_headers.Get("requestid") == "0");
  CHECK(local.ready == 0);
  conn.Reply(3);
  CHECK(local.ready == 1);
}

TEST_CASE("port-forward client: request ids come from one counter starting at 0") {
  FakeStreamConnection conn;
  StreamPairClient client(&conn);
  Local a, b, c;
  CHECK(client.Open(80, 1, a.Callbacks()) == 0);
  CHECK(client.Open(443, 2, b.Callbacks()) == 1);
  client.Close(0);
  CHECK(client.Open(80, 3, c.Callbacks()) == 2);
  CHECK(client.next_request_id() == 3);
  std::vector<std::string> ids;
  for (const auto& s : conn.streams()) ids.push_back(s.headers.Get("requestid"));
  CHECK(ids == std::vector<std::string>{"0", "1", "2"});
  CHECK(conn.streams()[1].headers.Get("port") == "443");
}

TEST_CASE("port-forward client: bytes both ways, local EOF half-closes data") {
  FakeStreamConnection conn;
  StreamPairClient client(&conn);
  Local local;
  RequestId id = OpenReady(client, conn, local);
  auto* data = Stream(conn, "data", id);
  StreamId data_id = data->id;
  CHECK(client.Write(id, "GET / HTTP/1.0\r\n\r\n"));
  CHECK(conn.Find(data_id)->written == "GET / HTTP/1.0\r\n\r\n");
  conn.Deliver(data_id, "HTTP/1.0 200 OK\r\n");
  conn.Deliver(data_id, "\r\nbody");
  CHECK(local.received == "HTTP/1.0 200 OK\r\n\r\nbody");
  CHECK(client.CloseWrite(id));
  CHECK(conn.Find(data_id)->write_closed);
  CHECK_FALSE(client.Write(id, "after EOF"));
  CHECK_FALSE(client.CloseWrite(id));
  conn.RemoteClose(data_id);
  CHECK(local.remote_closed == 1);
  conn.RemoteClose(Stream(conn, "error", id)->id);
  CHECK(local.errors.empty());
  // Both streams finished: closing sends no reset.
  client.Close(id);
  for (const auto& c : conn.calls()) CHECK(c.kind != Kind::kReset);
  CHECK(client.active() == 0);
}

TEST_CASE("port-forward client: done before the streams finished resets them") {
  FakeStreamConnection conn;
  StreamPairClient client(&conn);
  Local local;
  RequestId id = OpenReady(client, conn, local);
  client.Close(id);
  CHECK(conn.Find(Stream(conn, "error", id)->id)->reset);
  CHECK(conn.Find(Stream(conn, "data", id)->id)->reset);
  CHECK(client.active() == 0);
  CHECK_FALSE(client.Write(id, "x"));
  client.Close(id);  // unknown id: nothing happens
}

TEST_CASE("port-forward client: error text fails only its own connection") {
  FakeStreamConnection conn;
  StreamPairClient client(&conn);
  Local first, second;
  RequestId a = OpenReady(client, conn, first, 80, 8080);
  RequestId b = OpenReady(client, conn, second, 80, 8081);
  std::string text =
      "error forwarding port 80 to pod abc, uid : dial tcp4 127.0.0.1:80: connect: connection "
      "refused";
  StreamId err_b = Stream(conn, "error", b)->id;
  for (auto part : test::SplitRandom(text, 5)) conn.Deliver(err_b, part);
  CHECK(second.errors.empty());  // read to the end first
  conn.RemoteClose(err_b);
  REQUIRE(second.errors.size() == 1);
  CHECK(second.errors[0].code == ErrorCode::kServer);
  CHECK(second.errors[0].message == "an error occurred forwarding 8081 -> 80: " + text);
  CHECK(conn.Find(Stream(conn, "data", b)->id)->reset);
  CHECK(client.active() == 1);
  // The other connection keeps forwarding.
  CHECK(first.errors.empty());
  CHECK(client.Write(a, "still here"));
  conn.Deliver(Stream(conn, "data", a)->id, "pong");
  CHECK(first.received == "pong");
  CHECK_FALSE(conn.Find(Stream(conn, "data", a)->id)->reset);
  // And new connections still open.
  Local third;
  CHECK(OpenReady(client, conn, third) == 2);
}

TEST_CASE("port-forward client: error text is reported when the data stream ends first") {
  FakeStreamConnection conn;
  StreamPairClient client(&conn);
  Local local;
  RequestId id = OpenReady(client, conn, local);
  conn.Deliver(Stream(conn, "error", id)->id, "boom");
  conn.RemoteClose(Stream(conn, "data", id)->id);
  REQUIRE(local.errors.size() == 1);
  CHECK(local.errors[0].message == "an error occurred forwarding 8080 -> 80: boom");
  CHECK(local.remote_closed == 0);
}

TEST_CASE("port-forward client: refused streams and resets") {
  FakeStreamConnection conn;
  StreamPairClient client(&conn);
  Local refused;
  RequestId id = client.Open(80, 9000, refused.Callbacks());
  conn.Reply(Stream(conn, "error", id)->id,
             MakeError(ErrorCode::kProtocol, "stream reset by peer"));
  REQUIRE(refused.errors.size() == 1);
  CHECK(refused.errors[0].message ==
        "error creating error stream for port 9000 -> 80: stream reset by peer");
  CHECK(conn.OpenedTypes() == std::vector<std::string>{"error"});  // no data stream
  CHECK(client.active() == 0);

  Local data_refused;
  id = client.Open(80, 9001, data_refused.Callbacks());
  conn.Reply(Stream(conn, "error", id)->id);
  conn.Reply(Stream(conn, "data", id)->id, MakeError(ErrorCode::kUnavailable, "goaway"));
  REQUIRE(data_refused.errors.size() == 1);
  CHECK(data_refused.errors[0].code == ErrorCode::kUnavailable);
  CHECK(conn.Find(Stream(conn, "error", id)->id)->reset);

  Local lost;
  id = OpenReady(client, conn, lost);
  conn.RemoteReset(Stream(conn, "data", id)->id, "connection lost");
  REQUIRE(lost.errors.size() == 1);
  CHECK(lost.errors[0].code == ErrorCode::kUnavailable);
  CHECK(lost.errors[0].message.find("connection lost") != std::string::npos);
}

TEST_CASE("port-forward client: transports that accept inside OpenStream") {
  FakeStreamConnection::Options co;
  co.reply_synchronously = true;
  FakeStreamConnection conn(co);
  StreamPairClient client(&conn);
  Local local;
  RequestId id = client.Open(80, 8080, local.Callbacks());
  CHECK(local.ready == 1);
  CHECK(conn.Find(1)->write_closed);  // CloseWrite used the real id of the error stream
  CHECK(client.Write(id, "x"));
  CHECK(conn.Find(3)->written == "x");
}

TEST_CASE("port-forward client: unbounded error text is cut off") {
  FakeStreamConnection conn;
  StreamPairClient client(&conn);
  Local local;
  RequestId id = OpenReady(client, conn, local);
  std::string chunk(4096, 'e');
  for (size_t sent = 0; sent <= kMaxErrorText && local.errors.empty(); sent += chunk.size())
    conn.Deliver(Stream(conn, "error", id)->id, chunk);
  REQUIRE(local.errors.size() == 1);
  CHECK(local.errors[0].code == ErrorCode::kProtocol);
  CHECK(client.active() == 0);
}

TEST_CASE("port-forward client: destruction resets what is still open") {
  FakeStreamConnection conn;
  Local local;
  {
    StreamPairClient client(&conn);
    OpenReady(client, conn, local);
  }
  CHECK(conn.Find(1)->reset);
  CHECK(conn.Find(3)->reset);
}

}  // namespace kproxy::portforward
