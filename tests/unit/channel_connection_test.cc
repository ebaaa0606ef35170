// ChannelConnection: StreamConnection over channel messages, client and server roles.
#include "core/websocket/channel_connection.h"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/support/transcript.h"
#include "tests/support/ws_frame.h"

namespace kproxy::ws {
namespace {

std::string B(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

// Records what a stream received.
class RecordingHandler : public StreamHandler {
 public:
  void OnData(std::string_view bytes) override {
    data += bytes;
    ++data_calls;
  }
  void OnRemoteClose() override { ++remote_closes; }
  void OnReset(std::string_view reason) override { resets.emplace_back(reason); }
  std::string data;
  int data_calls = 0;
  int remote_closes = 0;
  std::vector<std::string> resets;
};

StreamHeaders Type(const char* t) {
  StreamHeaders h;
  h.Set("streamtype", t);
  return h;
}

}  // namespace

TEST_CASE("channel connection: client streams map to channels and reply at once") {
  ChannelConnection conn(ChannelProtocol::kV5, ChannelRole::kClient);
  RecordingHandler in, out, err, status;
  int replies = 0;
  auto ok = [&](Status s) {
    CHECK(s.ok());
    ++replies;
  };
  CHECK(conn.OpenStream(Type("stdin"), &in, ok) == 0);
  CHECK(conn.OpenStream(Type("stdout"), &out, ok) == 1);
  CHECK(conn.OpenStream(Type("stderr"), &err, ok) == 2);
  CHECK(conn.OpenStream(Type("error"), &status, ok) == 3);
  CHECK(conn.OpenStream(Type("resize"), nullptr, ok) == 4);
  CHECK(replies == 5);
  bool refused = false;
  CHECK(conn.OpenStream(Type("data"), nullptr, [&](Status s) { refused = !s.ok(); }) ==
        ChannelConnection::kInvalidStream);
  CHECK(refused);
  CHECK(conn.OpenStream(Type("stdin"), nullptr, [&](Status s) { refused = !s.ok(); }) ==
        ChannelConnection::kInvalidStream);
  CHECK(conn.SupportsHalfClose());

  CHECK(conn.Write(0, "hello from stdin\n"));
  CHECK(conn.BufferedBytes() == 18);
  CHECK(conn.CloseWrite(0));
  CHECK(!conn.Write(0, "late"));
  CHECK(!conn.CloseWrite(0));
  CHECK(conn.Write(4, "{\"Width\":80,\"Height\":24}\n"));
  auto msgs = conn.TakeMessages();
  CHECK(conn.BufferedBytes() == 0);
  REQUIRE(msgs.size() == 3);
  CHECK(msgs[0].data == std::string("\x00hello from stdin\n", 18));
  CHECK(msgs[1].data == B({0xFF, 0x00}));
  CHECK(msgs[2].data == std::string("\x04{\"Width\":80,\"Height\":24}\n"));

  // Server side of kubectl's transcript: marker, stdout, stderr, status, then close 1000.
  REQUIRE(conn.Receive(B({0x01}), false).ok());
  REQUIRE(conn.Receive(std::string("\x01hello from stdin\n"), false).ok());
  REQUIRE(conn.Receive(std::string("\x02to-err\n"), false).ok());
  REQUIRE(conn.Receive(std::string("\x03{\"status\":\"Success\"}"), false).ok());
  CHECK(out.data == "hello from stdin\n");
  CHECK(out.data_calls == 1);  // the marker delivered nothing
  CHECK(err.data == "to-err\n");
  CHECK(status.data == "{\"status\":\"Success\"}");
  conn.OnConnectionClosed();
  CHECK(out.remote_closes == 1);
  CHECK(status.remote_closes == 1);
  conn.OnConnectionClosed();
  CHECK(out.remote_closes == 1);
}

TEST_CASE("channel connection: v4 has no half-close") {
  ChannelConnection conn(ChannelProtocol::kV4, ChannelRole::kClient);
  StreamId id = conn.OpenStream(Type("stdin"), nullptr, nullptr);
  CHECK(!conn.SupportsHalfClose());
  CHECK(!conn.CloseWrite(id));
  CHECK(conn.Write(id, "x"));  // still writable
  CHECK(conn.TakeMessages().size() == 1);
}

TEST_CASE("channel connection: message sink receives messages instead of the queue") {
  ChannelConnection conn(ChannelProtocol::kBase64, ChannelRole::kClient);
  std::vector<OutMessage> sunk;
  conn.SetMessageSink([&](OutMessage m) { sunk.push_back(std::move(m)); });
  StreamId id = conn.OpenStream(Type("stdin"), nullptr, nullptr);
  CHECK(conn.Write(id, "hi?>"));
  CHECK(conn.BufferedBytes() == 0);
  REQUIRE(sunk.size() == 1);
  CHECK(sunk[0].is_text);
  CHECK(sunk[0].data == "0aGk/Pg==");
}

TEST_CASE("channel connection: client rejects data on an unopened channel, sticky") {
  ChannelConnection conn(ChannelProtocol::kV5, ChannelRole::kClient);
  RecordingHandler out;
  conn.OpenStream(Type("stdout"), &out, nullptr);
  CHECK(conn.Receive(B({0x02}), false).ok());  // a marker on an unopened channel is fine
  Status s = conn.Receive(std::string("\x02oops"), false);
  CHECK(!s.ok());
  CHECK(s.error().code == ErrorCode::kProtocol);
  CHECK(!conn.Receive(std::string("\x01ok"), false).ok());
  CHECK(out.data.empty());
}

TEST_CASE("channel connection: server accepts streams on first sight and sends the marker") {
  ChannelConnection conn(ChannelProtocol::kV5, ChannelRole::kServer);
  RecordingHandler stdin_h, resize_h;
  std::vector<std::pair<StreamId, std::string>> accepted;
  conn.SetAcceptHandler([&](StreamId id, const StreamHeaders& h) -> StreamHandler* {
    accepted.emplace_back(id, h.Get("streamtype"));
    if (h.Get("streamtype") == "stdin") return &stdin_h;
    if (h.Get("streamtype") == "resize") return &resize_h;
    return nullptr;
  });
  // The server opens the channels it writes.
  StreamId err = conn.OpenStream(Type("stderr"), nullptr, nullptr);
  StreamId out = conn.OpenStream(Type("stdout"), nullptr, nullptr);
  StreamId status = conn.OpenStream(Type("error"), nullptr, nullptr);
  conn.SendInitialMarker();
  auto msgs = conn.TakeMessages();
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0].data == B({0x01}));  // lowest writable channel: stdout

  REQUIRE(conn.Receive(std::string("\x00hello", 6), false).ok());
  REQUIRE(conn.Receive(std::string("\x00 world", 7), true).ok());  // text frames accepted
  REQUIRE(conn.Receive(B({0xFF, 0x00}), false).ok());
  REQUIRE(conn.Receive(std::string("\x04{\"Width\":1,\"Height\":2}\n"), false).ok());
  REQUIRE(conn.Receive(std::string("\x07junk"), false).ok());  // refused: dropped
  REQUIRE(conn.Receive(std::string("\x07more"), false).ok());
  REQUIRE(accepted.size() == 3);
  CHECK(accepted[0] == std::make_pair(StreamId{0}, std::string("stdin")));
  CHECK(accepted[1] == std::make_pair(StreamId{4}, std::string("resize")));
  CHECK(accepted[2].first == 7);
  CHECK(stdin_h.data == "hello world");
  CHECK(stdin_h.remote_closes == 1);
  CHECK(resize_h.data == "{\"Width\":1,\"Height\":2}\n");

  CHECK(conn.Write(out, "hello world"));
  CHECK(conn.Write(err, "e"));
  CHECK(conn.Write(status, "{}"));
  msgs = conn.TakeMessages();
  REQUIRE(msgs.size() == 3);
  CHECK(msgs[0].data == "\x01hello world");

  // Close signal with a wrong length makes the server fail the connection.
  CHECK(!conn.Receive(B({0xFF, 0x00, 0x00}), false).ok());
}

TEST_CASE("channel connection: lost connection resets every stream once") {
  ChannelConnection conn(ChannelProtocol::kV5, ChannelRole::kClient);
  RecordingHandler a, b;
  conn.OpenStream(Type("stdout"), &a, nullptr);
  conn.OpenStream(Type("stderr"), &b, nullptr);
  conn.Reset(2);  // locally reset: gets no further calls
  conn.OnConnectionLost("EOF without close frame");
  REQUIRE(a.resets.size() == 1);
  CHECK(a.resets[0] == "EOF without close frame");
  CHECK(b.resets.empty());
  CHECK(!conn.Write(1, "x"));
}

TEST_CASE("channel connection: large writes are split into 32 KiB messages") {
  ChannelConnection conn(ChannelProtocol::kV5, ChannelRole::kClient);
  StreamId id = conn.OpenStream(Type("stdin"), nullptr, nullptr);
  CHECK(conn.Write(id, std::string(70000, 'q')));
  auto msgs = conn.TakeMessages();
  REQUIRE(msgs.size() == 3);
  for (const auto& m : msgs) {
    CHECK(m.data.size() <= 32768);
    CHECK(m.data[0] == '\0');
  }
  CHECK(conn.Write(id, ""));
  CHECK(conn.TakeMessages().empty());
}

}  // namespace kproxy::ws

// Extra (not the only) check: client and server ChannelConnections talking through the test
// frame codec, masked client frames and unmasked server frames, split byte by byte.
namespace kproxy::ws {

TEST_CASE("channel connection: client and server round trip through RFC 6455 frames") {
  namespace tws = kproxy::test::ws;
  ChannelConnection client(ChannelProtocol::kV5, ChannelRole::kClient);
  ChannelConnection server(ChannelProtocol::kV5, ChannelRole::kServer);
  RecordingHandler c_out, c_status, s_stdin;
  server.SetAcceptHandler([&](StreamId, const StreamHeaders& h) -> StreamHandler* {
    return h.Get("streamtype") == "stdin" ? &s_stdin : nullptr;
  });
  StreamId in = client.OpenStream(Type("stdin"), nullptr, nullptr);
  client.OpenStream(Type("stdout"), &c_out, nullptr);
  client.OpenStream(Type("error"), &c_status, nullptr);
  StreamId s_out = server.OpenStream(Type("stdout"), nullptr, nullptr);
  StreamId s_status = server.OpenStream(Type("error"), nullptr, nullptr);
  server.SendInitialMarker();

  const std::string big(40000, 'B');
  client.Write(in, big);
  client.CloseWrite(in);
  std::string c2s;
  for (auto& m : client.TakeMessages())
    c2s += tws::EncodeFrame(m.is_text ? tws::Opcode::kText : tws::Opcode::kBinary, m.data, true,
                            tws::MaskKey{9, 8, 7, 6});
  tws::MessageDecoder s_dec(tws::Role::kServer);
  std::vector<tws::Message> s_msgs;
  for (const auto& part : test::SplitBytewise(c2s)) REQUIRE(s_dec.Feed(part, &s_msgs).ok());
  for (const auto& m : s_msgs)
    REQUIRE(server.Receive(m.payload, m.kind == tws::Message::Kind::kText).ok());
  CHECK(s_stdin.data == big);
  CHECK(s_stdin.remote_closes == 1);

  server.Write(s_out, big);
  server.Write(s_status, "{\"status\":\"Success\"}");
  std::string s2c;
  for (auto& m : server.TakeMessages()) s2c += tws::EncodeFrame(tws::Opcode::kBinary, m.data);
  s2c += tws::EncodeClose(1000, "");
  tws::MessageDecoder c_dec(tws::Role::kClient);
  std::vector<tws::Message> c_msgs;
  for (const auto& part : test::SplitRandom(s2c, 11)) REQUIRE(c_dec.Feed(part, &c_msgs).ok());
  for (const auto& m : c_msgs) {
    if (m.kind == tws::Message::Kind::kClose) {
      CHECK(m.close_code == 1000);
      client.OnConnectionClosed();
    } else {
      REQUIRE(client.Receive(m.payload, false).ok());
    }
  }
  CHECK(c_out.data == big);
  CHECK(c_status.data == "{\"status\":\"Success\"}");
  CHECK(c_status.remote_closes == 1);
}

}  // namespace kproxy::ws
