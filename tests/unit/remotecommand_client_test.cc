#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/remotecommand/stream_protocol.h"
#include "tests/support/fake_stream_connection.h"
#include "tests/support/test_env.h"
#include "tests/support/transcript.h"

namespace kproxy::remotecommand {
namespace {

using test::FakeStreamConnection;
using Kind = FakeStreamConnection::Call::Kind;

constexpr ProtocolVersion kAllVersions[] = {ProtocolVersion::kV1, ProtocolVersion::kV2,
                                            ProtocolVersion::kV3, ProtocolVersion::kV4,
                                            ProtocolVersion::kV5};

constexpr const char* kExit3 =
    R"({"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: )"
    R"(error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode",)"
    R"("details":{"causes":[{"reason":"ExitCode","message":"3"}]}})";

// A client session on a fake connection, recording what the callbacks saw.
struct Session {
  explicit Session(ProtocolVersion v, StreamOptions o, FakeStreamConnection::Options co = {})
      : conn(co) {
    ExecCallbacks cb;
    cb.on_ready = [this] { ++ready; };
    cb.on_stdout = [this](std::string_view b) { out.append(b); };
    cb.on_stderr = [this](std::string_view b) { err.append(b); };
    cb.on_done = [this](Result<ExecResult> r) {
      ++done_calls;
      result.emplace(std::move(r));
      out_at_done = out;
    };
    proto = NewStreamProtocol(v, &conn, o, std::move(cb));
  }
  // Starts and accepts every stream as it is opened.
  void OpenAll() {
    proto->Start();
    for (int guard = 0; guard < 10 && conn.PendingReplies() > 0; ++guard)
      conn.Reply(conn.streams().back().id);
    REQUIRE(proto->ready());
  }
  StreamId Id(const char* type) {
    auto* s = conn.FindByType(type);
    REQUIRE(s != nullptr);
    return s->id;
  }
  int CountCalls(Kind k) const {
    int n = 0;
    for (auto& c : conn.calls()) n += c.kind == k;
    return n;
  }

  FakeStreamConnection conn;
  std::unique_ptr<StreamProtocol> proto;
  std::string out, err, out_at_done;
  int ready = 0;
  int done_calls = 0;
  std::optional<Result<ExecResult>> result;
};

StreamOptions Opts(bool in, bool out, bool err, bool tty) {
  return StreamOptions{in, out, err, tty};
}

}  // namespace

TEST_CASE("client: streams created in order with exactly the streamtype header") {
  using V = std::vector<std::string>;
  struct Case {
    StreamOptions options;
    V v1_v2;
    V v3_plus;
  };
  const Case cases[] = {
      {Opts(true, true, true, false), V{"error", "stdin", "stdout", "stderr"},
       V{"error", "stdin", "stdout", "stderr"}},
      {Opts(false, true, true, false), V{"error", "stdout", "stderr"},
       V{"error", "stdout", "stderr"}},
      {Opts(false, true, false, false), V{"error", "stdout"}, V{"error", "stdout"}},
      {Opts(true, false, false, false), V{"error", "stdin"}, V{"error", "stdin"}},
      // A tty drops stderr; v3+ add the resize stream.
      {Opts(true, true, true, true), V{"error", "stdin", "stdout"},
       V{"error", "stdin", "stdout", "resize"}},
      {Opts(true, true, false, true), V{"error", "stdin", "stdout"},
       V{"error", "stdin", "stdout", "resize"}},
      {Opts(false, true, true, true), V{"error", "stdout"}, V{"error", "stdout", "resize"}},
  };
  for (const Case& c : cases) {
    for (ProtocolVersion v : kAllVersions) {
      CAPTURE(static_cast<int>(v));
      CAPTURE(c.options.stdin);
      CAPTURE(c.options.tty);
      Session s(v, c.options);
      const V& expected = v >= ProtocolVersion::kV3 ? c.v3_plus : c.v1_v2;
      CHECK(s.proto->StreamTypes() == expected);
      CHECK(s.proto->version() == v);
      s.OpenAll();
      CHECK(s.conn.OpenedTypes() == expected);
      for (const auto& st : s.conn.streams()) {
        REQUIRE(st.headers.pairs.size() == 1);
        CHECK(st.headers.pairs[0].first == "streamtype");
      }
      CHECK(s.ready == 1);
    }
  }
}

TEST_CASE("client: each stream is opened only after the previous one's reply") {
  Session s(ProtocolVersion::kV4, Opts(true, true, false, true));
  s.proto->Start();
  CHECK(s.conn.OpenedTypes() == std::vector<std::string>{"error"});
  CHECK_FALSE(s.proto->WriteStdin("early"));
  s.conn.Reply(1);
  CHECK(s.conn.OpenedTypes() == std::vector<std::string>{"error", "stdin"});
  s.conn.Reply(3);
  CHECK(s.conn.OpenedTypes().size() == 3);
  CHECK(s.ready == 0);
  CHECK_FALSE(s.proto->ready());
  s.conn.Reply(5);
  CHECK(s.conn.OpenedTypes().size() == 4);
  CHECK(s.ready == 0);
  s.conn.Reply(7);
  CHECK(s.ready == 1);
  CHECK(s.proto->ready());
  s.proto->Start();  // idempotent
  CHECK(s.conn.OpenedTypes().size() == 4);
  // No data flowed while the streams were being created.
  CHECK(s.CountCalls(Kind::kWrite) == 0);
}

TEST_CASE("client: transports that accept inside OpenStream (WebSocket channels)") {
  FakeStreamConnection::Options co;
  co.reply_synchronously = true;
  co.first_id = 0;
  co.id_step = 1;
  Session s(ProtocolVersion::kV5, Opts(true, true, true, false), co);
  s.proto->Start();
  CHECK(s.ready == 1);
  CHECK(s.conn.OpenedTypes() == std::vector<std::string>{"error", "stdin", "stdout", "stderr"});
  REQUIRE(s.proto->WriteStdin("abc"));
  CHECK(s.conn.Find(s.Id("stdin"))->written == "abc");
}

TEST_CASE("client: a refused stream ends the session with an error") {
  Session s(ProtocolVersion::kV4, Opts(true, true, true, false));
  s.proto->Start();
  s.conn.Reply(1);
  s.conn.Reply(3);
  s.conn.Reply(5, MakeError(ErrorCode::kProtocol, "stream reset by peer"));
  REQUIRE(s.result.has_value());
  REQUIRE_FALSE(s.result->ok());
  CHECK(s.result->error().message == "error creating stdout stream: stream reset by peer");
  CHECK(s.ready == 0);
  CHECK(s.conn.OpenedTypes().size() == 3);  // stderr never opened
  CHECK(s.conn.Find(1)->reset);
  CHECK(s.conn.Find(3)->reset);
  CHECK(s.CountCalls(Kind::kReset) == 2);  // not the refused stream itself
}

TEST_CASE("client: stdin bytes go to the stdin stream") {
  Session s(ProtocolVersion::kV4, Opts(true, true, true, false));
  s.OpenAll();
  CHECK(s.proto->WriteStdin("hello from stdin\n"));
  CHECK(s.proto->WriteStdin(""));
  CHECK(s.conn.Find(s.Id("stdin"))->written == "hello from stdin\n");
  CHECK(s.CountCalls(Kind::kWrite) == 1);  // the empty write put nothing on the wire
  Session no_stdin(ProtocolVersion::kV4, Opts(false, true, true, false));
  no_stdin.OpenAll();
  CHECK_FALSE(no_stdin.proto->WriteStdin("x"));
}

TEST_CASE("client: stdin EOF half-closes on v2+ where the transport can") {
  for (ProtocolVersion v : kAllVersions) {
    for (bool transport_half_close : {true, false}) {
      CAPTURE(static_cast<int>(v));
      CAPTURE(transport_half_close);
      FakeStreamConnection::Options co;
      co.supports_half_close = transport_half_close;
      Session s(v, Opts(true, true, true, false), co);
      s.OpenAll();
      bool expect = v >= ProtocolVersion::kV2 && transport_half_close;
      CHECK(s.proto->CloseStdin() == expect);
      CHECK(s.conn.Find(s.Id("stdin"))->write_closed == expect);
      // v1 never closes stdin; over WebSocket v4 there is no way to: no CloseWrite at all.
      CHECK(s.CountCalls(Kind::kCloseWrite) == (expect ? 1 : 0));
      CHECK_FALSE(s.proto->WriteStdin("late"));
      CHECK_FALSE(s.proto->CloseStdin());
    }
  }
}

TEST_CASE("client: stdin EOF before the streams exist is sent once they do") {
  Session s(ProtocolVersion::kV5, Opts(true, true, false, false));
  s.proto->Start();
  CHECK(s.proto->CloseStdin());
  CHECK(s.CountCalls(Kind::kCloseWrite) == 0);
  s.conn.Reply(1);
  s.conn.Reply(3);
  s.conn.Reply(5);
  CHECK(s.conn.Find(3)->write_closed);
  CHECK(s.CountCalls(Kind::kCloseWrite) == 1);
}

TEST_CASE("client: the server closing stdin makes v2+ close its side too") {
  for (ProtocolVersion v : kAllVersions) {
    CAPTURE(static_cast<int>(v));
    Session s(v, Opts(true, true, false, false));
    s.OpenAll();
    s.conn.RemoteClose(s.Id("stdin"));
    CHECK(s.conn.Find(s.Id("stdin"))->write_closed == (v >= ProtocolVersion::kV2));
    CHECK_FALSE(s.result.has_value());
  }
}

TEST_CASE("client: resize events are JSON lines on the resize stream, as kubectl writes them") {
  // kubectl 1.28's resize payloads, taken from the client bytes of the SPDY tty vector.
  std::string client = test::LoadTranscript(test::VectorsDir() /
                                            "spdy-exec-tty-resize-exit5.kubectl-1.28.transcript")
                           .ClientBytes();
  size_t a = client.find("{\"Width\":80");
  size_t b = client.find("{\"Width\":120");
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  std::string first = client.substr(a, client.find('\n', a) + 1 - a);
  std::string second = client.substr(b, client.find('\n', b) + 1 - b);

  Session s(ProtocolVersion::kV4, Opts(true, true, false, true));
  s.OpenAll();
  CHECK(s.proto->Resize(80, 24));
  CHECK(s.proto->Resize(120, 40));
  CHECK(s.conn.Find(s.Id("resize"))->written == first + second);
  // One message per event.
  std::vector<std::string> writes;
  for (auto& c : s.conn.calls())
    if (c.kind == Kind::kWrite) writes.push_back(c.data);
  CHECK(writes == std::vector<std::string>{first, second});
  CHECK(EncodeResize(65535, 0) == "{\"Width\":65535,\"Height\":0}\n");
}

TEST_CASE("client: resize before ready is queued in order; no resize without tty or before v3") {
  Session s(ProtocolVersion::kV5, Opts(true, true, false, true));
  s.proto->Start();
  CHECK(s.proto->Resize(81, 25));
  CHECK(s.proto->Resize(80, 24));
  s.conn.Reply(1);
  s.conn.Reply(3);
  s.conn.Reply(5);
  CHECK(s.CountCalls(Kind::kWrite) == 0);
  s.conn.Reply(7);
  CHECK(s.conn.Find(7)->written == "{\"Width\":81,\"Height\":25}\n{\"Width\":80,\"Height\":24}\n");
  for (ProtocolVersion v : {ProtocolVersion::kV1, ProtocolVersion::kV2}) {
    Session old(v, Opts(true, true, false, true));
    old.OpenAll();
    CHECK_FALSE(old.proto->Resize(80, 24));
  }
  Session no_tty(ProtocolVersion::kV5, Opts(true, true, true, false));
  no_tty.OpenAll();
  CHECK_FALSE(no_tty.proto->Resize(80, 24));
  CHECK(no_tty.CountCalls(Kind::kWrite) == 0);
}

TEST_CASE("client: output is drained before the result is delivered") {
  Session s(ProtocolVersion::kV4, Opts(false, true, true, false));
  s.OpenAll();
  s.conn.Deliver(s.Id("stdout"), "out-1 ");
  s.conn.Deliver(s.Id("stderr"), "to-err\n");
  s.conn.Deliver(s.Id("error"), kExit3);
  s.conn.RemoteClose(s.Id("error"));
  CHECK_FALSE(s.result.has_value());  // stdout and stderr still open
  s.conn.Deliver(s.Id("stdout"), "out-2");
  s.conn.RemoteClose(s.Id("stdout"));
  CHECK_FALSE(s.result.has_value());
  s.conn.RemoteReset(s.Id("stderr"), "cancel");  // a server's RST CANCEL also ends a stream
  REQUIRE(s.result.has_value());
  REQUIRE(s.result->ok());
  CHECK((*s.result)->exit_code == 3);
  CHECK((*s.result)->message == "command terminated with exit code 3");
  CHECK(s.out_at_done == "out-1 out-2");
  CHECK(s.err == "to-err\n");
  CHECK(s.done_calls == 1);
  CHECK(s.proto->done());
}

TEST_CASE("client: the error stream is read to its end in any split") {
  std::string payload = kExit3;
  for (auto parts : {test::SplitWhole(payload), test::SplitBytewise(payload),
                     test::SplitRandom(payload, 1), test::SplitRandom(payload, 99)}) {
    for (ProtocolVersion v : {ProtocolVersion::kV4, ProtocolVersion::kV5}) {
      Session s(v, Opts(false, true, false, false));
      s.OpenAll();
      for (const std::string& p : parts) {
        s.conn.Deliver(s.Id("error"), p);
        CHECK_FALSE(s.result.has_value());
      }
      s.conn.RemoteClose(s.Id("stdout"));
      CHECK_FALSE(s.result.has_value());
      s.conn.RemoteClose(s.Id("error"));
      REQUIRE(s.result.has_value());
      REQUIRE(s.result->ok());
      CHECK((*s.result)->exit_code == 3);
    }
  }
}

TEST_CASE("client: each version decodes its own error stream") {
  struct Case {
    ProtocolVersion v;
    std::string payload;
    bool ok;
    int exit_code;
    std::string message;
  };
  const Case cases[] = {
      {ProtocolVersion::kV1, "", true, 0, ""},
      {ProtocolVersion::kV1, "boom", false, 0, "Error executing remote command: boom"},
      {ProtocolVersion::kV2, "boom", false, 0, "error executing remote command: boom"},
      {ProtocolVersion::kV3, "", true, 0, ""},
      {ProtocolVersion::kV4, "", true, 0, ""},
      {ProtocolVersion::kV4, R"({"metadata":{},"status":"Success"})", true, 0, ""},
      {ProtocolVersion::kV5, kExit3, true, 3, "command terminated with exit code 3"},
      {ProtocolVersion::kV5, R"({"status":"Failure","message":"no such container"})", false, 0,
       "no such container"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.payload);
    Session s(c.v, Opts(false, true, false, false));
    s.OpenAll();
    if (!c.payload.empty()) s.conn.Deliver(s.Id("error"), c.payload);
    s.conn.RemoteClose(s.Id("error"));
    s.conn.RemoteClose(s.Id("stdout"));
    REQUIRE(s.result.has_value());
    REQUIRE(s.result->ok() == c.ok);
    if (c.ok) {
      CHECK((*s.result)->exit_code == c.exit_code);
      CHECK((*s.result)->message == c.message);
    } else {
      CHECK(s.result->error().message == c.message);
    }
  }
}

TEST_CASE("client: a lost connection is an error, not success") {
  Session s(ProtocolVersion::kV5, Opts(true, true, true, false));
  s.OpenAll();
  for (const char* t : {"stdin", "stdout", "stderr", "error"})
    s.conn.RemoteReset(s.Id(t), "connection lost");
  REQUIRE(s.result.has_value());
  REQUIRE_FALSE(s.result->ok());
  CHECK(s.result->error().code == ErrorCode::kUnavailable);
  CHECK(s.result->error().message.find("connection lost") != std::string::npos);
  // A complete status followed by a reset still counts.
  Session t(ProtocolVersion::kV4, Opts(false, true, false, false));
  t.OpenAll();
  t.conn.Deliver(t.Id("error"), kExit3);
  t.conn.RemoteReset(t.Id("error"), "cancel");
  t.conn.RemoteReset(t.Id("stdout"), "cancel");
  REQUIRE(t.result.has_value());
  REQUIRE(t.result->ok());
  CHECK((*t.result)->exit_code == 3);
}

TEST_CASE("client: an error stream that ends early stops stream creation") {
  Session s(ProtocolVersion::kV4, Opts(true, true, true, false));
  s.proto->Start();
  s.conn.Reply(1);
  s.conn.Deliver(1, R"({"status":"Failure","message":"timed out waiting for client"})");
  s.conn.RemoteClose(1);
  REQUIRE(s.result.has_value());
  REQUIRE_FALSE(s.result->ok());
  CHECK(s.result->error().message == "timed out waiting for client");
  s.conn.Reply(3);  // the stdin reply arrives late: nothing more is opened
  CHECK(s.conn.OpenedTypes().size() == 2);
  CHECK(s.ready == 0);
  CHECK(s.done_calls == 1);
}

TEST_CASE("client: abort resets unfinished streams and reports once") {
  Session s(ProtocolVersion::kV4, Opts(true, true, true, false));
  s.OpenAll();
  s.proto->Abort(MakeError(ErrorCode::kCancelled, "interrupted"));
  REQUIRE(s.result.has_value());
  CHECK(s.result->error().code == ErrorCode::kCancelled);
  CHECK(s.CountCalls(Kind::kReset) == 4);
  s.proto->Abort(MakeError(ErrorCode::kInternal, "again"));
  CHECK(s.done_calls == 1);
  CHECK_FALSE(s.proto->WriteStdin("x"));
  CHECK_FALSE(s.proto->Resize(1, 1));
}

TEST_CASE("client: an endless error stream is a protocol error, not an allocation") {
  Session s(ProtocolVersion::kV4, Opts(false, true, false, false));
  s.OpenAll();
  std::string chunk(64 * 1024, 'x');
  for (size_t sent = 0; sent <= kMaxErrorStreamBytes && !s.result; sent += chunk.size())
    s.conn.Deliver(s.Id("error"), chunk);
  REQUIRE(s.result.has_value());
  REQUIRE_FALSE(s.result->ok());
  CHECK(s.result->error().code == ErrorCode::kProtocol);
  CHECK(s.conn.Find(s.Id("error"))->reset);
}

}  // namespace kproxy::remotecommand
