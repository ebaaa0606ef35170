#include "core/spdy/spdy_session.h"

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/spdy_builder.h"
#include "tests/support/test_env.h"
#include "tests/support/transcript.h"

namespace kproxy::spdy {
namespace b = test::spdyb;
namespace {

// Records what a stream receives.
struct Recorder : StreamHandler {
  std::string data;
  int remote_closes = 0;
  std::vector<std::string> resets;
  std::function<void(std::string_view)> on_data;
  void OnData(std::string_view bytes) override {
    data += bytes;
    if (on_data) on_data(bytes);
  }
  void OnRemoteClose() override { ++remote_closes; }
  void OnReset(std::string_view reason) override { resets.emplace_back(reason); }
};

std::vector<Frame> DecodeOut(FrameDecoder& d, const std::string& bytes) {
  std::vector<Frame> frames;
  Status st = d.Feed(bytes, [&](Frame&& f) { frames.push_back(std::move(f)); });
  REQUIRE(st.ok());
  return frames;
}

// Moves bytes between two sessions until neither has anything to send.
void Pump(SpdySession& a, SpdySession& z) {
  for (int i = 0; i < 100; ++i) {
    std::string ab = a.TakeOutput();
    std::string za = z.TakeOutput();
    if (ab.empty() && za.empty()) return;
    if (!ab.empty()) REQUIRE(z.Receive(ab).ok());
    if (!za.empty()) REQUIRE(a.Receive(za).ok());
  }
  FAIL("sessions never went quiet");
}

struct Server {
  SpdySession session{Role::kServer};
  std::map<StreamId, std::unique_ptr<Recorder>> streams;
  std::map<StreamId, StreamHeaders> headers;
  Server() {
    session.SetAcceptHandler([this](StreamId id, const StreamHeaders& h) -> StreamHandler* {
      headers[id] = h;
      auto& r = streams[id];
      r = std::make_unique<Recorder>();
      return r.get();
    });
  }
};

}  // namespace

TEST_CASE("spdy session: client and server sessions run an exec, both directions") {
  SpdySession client(Role::kClient);
  Server server;
  std::vector<SessionEvent> client_events;
  client.SetEventHandler([&](const SessionEvent& e) { client_events.push_back(e); });

  // Streams open one at a time, each after the previous SYN_REPLY, as kubectl does.
  Recorder err, in, out, errout;
  std::vector<StreamId> ids;
  int replies = 0;
  for (auto [type, rec] :
       {std::pair{"error", &err}, {"stdin", &in}, {"stdout", &out}, {"stderr", &errout}}) {
    StreamHeaders h;
    h.Set("streamtype", type);
    ids.push_back(client.OpenStream(h, rec, [&](Status st) {
      CHECK(st.ok());
      ++replies;
    }));
    Pump(client, server.session);
    CHECK(replies == static_cast<int>(ids.size()));
  }
  CHECK(ids == std::vector<StreamId>{1, 3, 5, 7});
  CHECK(server.headers[1].Get("streamtype") == "error");
  CHECK(server.headers[7].Get("streamtype") == "stderr");

  // Client -> server: stdin and its half-close.
  CHECK(client.Write(3, "hello from stdin\n"));
  CHECK(client.CloseWrite(3));
  CHECK_FALSE(client.Write(3, "late"));
  Pump(client, server.session);
  CHECK(server.streams[3]->data == "hello from stdin\n");
  CHECK(server.streams[3]->remote_closes == 1);

  // Server -> client: stdout, stderr, status, FINs.
  CHECK(server.session.Write(5, "hello from stdin\n"));
  CHECK(server.session.Write(7, "to-err\n"));
  CHECK(server.session.Write(1, "{\"status\":\"Success\"}"));
  for (StreamId id : {1u, 3u, 5u, 7u}) CHECK(server.session.CloseWrite(id));
  Pump(client, server.session);
  CHECK(out.data == "hello from stdin\n");
  CHECK(errout.data == "to-err\n");
  CHECK(err.data == "{\"status\":\"Success\"}");
  for (Recorder* r : {&err, &in, &out, &errout}) CHECK(r->remote_closes == 1);
  // Stream 3 is finished both ways; 1, 5, 7 wait for the client's FIN.
  CHECK(client.OpenStreamCount() == 3);

  // The kubelet-style end: RST CANCEL for the unfinished streams, then GOAWAY(OK).
  server.session.EndSession();
  FrameDecoder peek;
  std::string end = server.session.TakeOutput();
  auto frames = DecodeOut(peek, end);
  REQUIRE(frames.size() == 4);
  for (int i = 0; i < 3; ++i) {
    CHECK(frames[i].type == FrameType::kRstStream);
    CHECK(frames[i].status == static_cast<uint32_t>(RstStatus::kCancel));
  }
  CHECK(frames[3].type == FrameType::kGoAway);
  CHECK(frames[3].status == 0);
  CHECK(frames[3].last_good_stream_id == 7);
  REQUIRE(client.Receive(end).ok());
  CHECK(err.resets.size() == 1);
  CHECK(out.resets.size() == 1);
  CHECK(in.resets.empty());
  REQUIRE(client_events.size() == 1);
  CHECK(client_events[0].kind == SessionEvent::Kind::kGoAway);
  CHECK(client.IsClosing());
  StreamHeaders h;
  h.Set("streamtype", "stdin");
  bool refused = false;
  CHECK(client.OpenStream(h, &in, [&](Status st) { refused = !st.ok(); }) == 0);
  CHECK(refused);
}

TEST_CASE("spdy session: the server opens a stream to the client (even ids)") {
  SpdySession client(Role::kClient);
  Server server;
  Recorder at_client, at_server;
  client.SetAcceptHandler([&](StreamId id, const StreamHeaders& h) -> StreamHandler* {
    CHECK(id == 2);
    CHECK(h.Get("streamtype") == "push");
    return &at_client;
  });
  StreamHeaders h;
  h.Set("streamtype", "push");
  bool replied = false;
  StreamId id = server.session.OpenStream(h, &at_server, [&](Status st) { replied = st.ok(); });
  CHECK(id == 2);
  Pump(client, server.session);
  CHECK(replied);
  CHECK(server.session.Write(2, "to client"));
  CHECK(client.Write(2, "to server"));
  Pump(client, server.session);
  CHECK(at_client.data == "to client");
  CHECK(at_server.data == "to server");
  CHECK(server.session.OpenStream(h, &at_server, nullptr) == 4);
}

TEST_CASE("spdy session: accept handler refusing a stream resets it") {
  SpdySession client(Role::kClient);
  SpdySession server(Role::kServer);
  server.SetAcceptHandler([](StreamId, const StreamHeaders&) { return nullptr; });
  Recorder r;
  Status reply;
  client.OpenStream(StreamHeaders{{{"streamtype", "bogus"}}}, &r, [&](Status st) { reply = st; });
  Pump(client, server);
  CHECK_FALSE(reply.ok());
  REQUIRE(r.resets.size() == 1);
  CHECK(r.resets[0].find("status 3") != std::string::npos);
  CHECK(client.OpenStreamCount() == 0);
}

TEST_CASE("spdy session: data written inside the accept handler follows the SYN_REPLY") {
  SpdySession client(Role::kClient);
  SpdySession server(Role::kServer);
  Recorder srv;
  server.SetAcceptHandler([&](StreamId id, const StreamHeaders&) -> StreamHandler* {
    CHECK(server.Write(id, "early"));
    CHECK(server.CloseWrite(id));
    return &srv;
  });
  Recorder r;
  client.OpenStream(StreamHeaders{{{"streamtype", "stdout"}}}, &r, nullptr);
  REQUIRE(server.Receive(client.TakeOutput()).ok());
  FrameDecoder peek;
  auto frames = DecodeOut(peek, server.TakeOutput());
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].type == FrameType::kSynReply);
  CHECK(frames[1].data == "early");
  CHECK(frames[2].fin());
}

TEST_CASE("spdy session: pings use our parity, peer pings are echoed unchanged") {
  SpdySession client(Role::kClient);
  SpdySession server(Role::kServer);
  std::vector<uint32_t> client_replies, server_replies;
  client.SetEventHandler([&](const SessionEvent& e) {
    if (e.kind == SessionEvent::Kind::kPingReply) client_replies.push_back(e.ping_id);
  });
  server.SetEventHandler([&](const SessionEvent& e) {
    if (e.kind == SessionEvent::Kind::kPingReply) server_replies.push_back(e.ping_id);
  });
  CHECK(client.SendPing() == 1);
  CHECK(client.SendPing() == 3);
  CHECK(server.SendPing() == 2);
  Pump(client, server);
  CHECK(client_replies == std::vector<uint32_t>{1, 3});
  CHECK(server_replies == std::vector<uint32_t>{2});
  // A peer ping is echoed byte for byte.
  REQUIRE(client.Receive(b::Ping(0x7FFFFFFE)).ok());
  CHECK(client.TakeOutput() == b::Ping(0x7FFFFFFE));
  // An echo of a ping we never sent is ignored.
  REQUIRE(client.Receive(b::Ping(99)).ok());
  CHECK(client.TakeOutput().empty());
  CHECK(client_replies.size() == 2);
}

TEST_CASE("spdy session: 70 KiB+ on one stream is queued at once, no window, no SETTINGS") {
  SpdySession client(Role::kClient);
  Server server;
  Recorder r;
  StreamId id = client.OpenStream(StreamHeaders{{{"streamtype", "stdin"}}}, &r, nullptr);
  Pump(client, server.session);
  std::string big(200 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31);
  CHECK(client.Write(id, big));
  CHECK(client.BufferedBytes() >= big.size());
  std::string out = client.TakeOutput();
  CHECK(client.BufferedBytes() == 0);
  FrameDecoder peek;
  std::string seen;
  for (const auto& f : DecodeOut(peek, out)) {
    CHECK(f.type == FrameType::kData);
    seen += f.data;
  }
  CHECK(seen == big);
  // The server session also never answers with WINDOW_UPDATE or SETTINGS.
  REQUIRE(server.session.Receive(out).ok());
  CHECK(server.streams[id]->data == big);
  CHECK(server.session.TakeOutput().empty());
}

TEST_CASE("spdy session: protocol errors") {
  b::Deflater z;
  SUBCASE("SYN_STREAM with the wrong id parity is fatal and sticky") {
    SpdySession server(Role::kServer);
    std::vector<SessionEvent> events;
    server.SetEventHandler([&](const SessionEvent& e) { events.push_back(e); });
    server.SetAcceptHandler([](StreamId, const StreamHeaders&) -> StreamHandler* {
      FAIL("must not accept");
      return nullptr;
    });
    Status st = server.Receive(b::SynStream(z, 2, 0, {{"streamtype", "error"}}));
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == ErrorCode::kProtocol);
    CHECK(st.error().message.find("parity") != std::string::npos);
    CHECK(server.TakeOutput() == b::GoAway(0, 1));
    REQUIRE(events.size() == 1);
    CHECK(events[0].kind == SessionEvent::Kind::kProtocolError);
    CHECK_FALSE(server.Receive(b::Ping(1)).ok());
    CHECK(server.TakeOutput().empty());
  }
  SUBCASE("stream ids must increase") {
    SpdySession server(Role::kServer);
    Recorder r;
    server.SetAcceptHandler([&](StreamId, const StreamHeaders&) { return &r; });
    std::string bytes = b::SynStream(z, 5, 0, {{"a", "1"}});
    bytes += b::SynStream(z, 3, 0, {{"a", "2"}});
    CHECK_FALSE(server.Receive(bytes).ok());
    CHECK(r.resets.size() == 1);  // the open stream ends with the session
  }
  SUBCASE("DATA on an unknown stream resets that stream only") {
    SpdySession client(Role::kClient);
    std::vector<SessionEvent> events;
    client.SetEventHandler([&](const SessionEvent& e) { events.push_back(e); });
    REQUIRE(client.Receive(b::Data(9, 0, "who?")).ok());
    CHECK(client.TakeOutput() == b::RstStream(9, 2));
    REQUIRE(events.size() == 1);
    CHECK(events[0].kind == SessionEvent::Kind::kStreamError);
    CHECK(events[0].stream_id == 9);
    CHECK_FALSE(client.Failed());
  }
  SUBCASE("DATA after the peer's FIN") {
    SpdySession client(Role::kClient);
    Recorder r;
    client.OpenStream(StreamHeaders{{{"streamtype", "stdout"}}}, &r, nullptr);
    client.TakeOutput();
    std::string bytes = b::SynReply(z, 1, 0, {});
    bytes += b::Data(1, 1, "last") + b::Data(1, 0, "more");
    REQUIRE(client.Receive(bytes).ok());
    CHECK(r.data == "last");
    CHECK(r.resets.size() == 1);
    CHECK(client.TakeOutput() == b::RstStream(1, 9));
  }
  SUBCASE("unknown control frames are ignored, never fatal") {
    SpdySession client(Role::kClient);
    REQUIRE(client.Receive(b::Control(5, 0, "") + b::Control(10, 0, "xyz")).ok());
    CHECK(client.TakeOutput().empty());
  }
  SUBCASE("garbage bytes") {
    SpdySession client(Role::kClient);
    CHECK_FALSE(client.Receive("GET / HTTP/1.1\r\n\r\n").ok());
    CHECK(client.Failed());
  }
}

TEST_CASE("spdy session: RST_STREAM from the peer and local Reset") {
  SpdySession client(Role::kClient);
  Server server;
  Recorder a, c;
  StreamId ida = client.OpenStream(StreamHeaders{{{"streamtype", "stdout"}}}, &a, nullptr);
  StreamId idc = client.OpenStream(StreamHeaders{{{"streamtype", "stderr"}}}, &c, nullptr);
  Pump(client, server.session);
  server.session.Reset(ida);
  Pump(client, server.session);
  REQUIRE(a.resets.size() == 1);
  CHECK(a.resets[0].find("status 5") != std::string::npos);
  CHECK_FALSE(client.Write(ida, "x"));
  client.Reset(idc);
  Pump(client, server.session);
  CHECK(c.resets.empty());  // a local reset does not call back
  CHECK(server.streams[idc]->resets.size() == 1);
  // Data racing the reset is dropped silently.
  REQUIRE(client.Receive(b::Data(idc, 0, "late")).ok());
  CHECK(client.TakeOutput().empty());
}

namespace {

// Drives a client session the way kubectl does against the server bytes of a vector.
struct VectorClient {
  SpdySession session{Role::kClient};
  std::map<std::string, Recorder> rec;
  std::map<std::string, StreamId> ids;
  int replies = 0;
  void Open(const std::string& type, StreamHeaders h = {}) {
    h.Set("streamtype", type);
    ids[type] = session.OpenStream(h, &rec[type], [this](Status st) {
      CHECK(st.ok());
      ++replies;
    });
  }
};

}  // namespace

TEST_CASE("spdy session: our client against the server bytes of the exec vector") {
  test::Transcript t =
      test::LoadTranscript(test::VectorsDir() / "spdy-exec-stdin-exit7.kubectl-1.28.transcript");
  std::string server_bytes = t.ServerBytes();
  for (auto pieces : {test::SplitWhole(server_bytes), test::SplitBytewise(server_bytes),
                      test::SplitRandom(server_bytes, 77)}) {
    VectorClient c;
    for (const char* type : {"error", "stdin", "stdout", "stderr"}) c.Open(type);
    CHECK(c.session.Write(c.ids["stdin"], "hello from stdin\n"));
    CHECK(c.session.CloseWrite(c.ids["stdin"]));
    // Our client bytes carry the same frames kubectl sent (zlib bytes differ: Go's deflate).
    FrameDecoder peek;
    auto frames = DecodeOut(peek, c.session.TakeOutput());
    REQUIRE(frames.size() == 6);
    CHECK(frames[0].headers.pairs == b::Pairs{{"streamtype", "error"}});
    CHECK(frames[3].stream_id == 7);
    CHECK(frames[4].data == "hello from stdin\n");
    CHECK(frames[5].fin());
    for (const auto& p : pieces) REQUIRE(c.session.Receive(p).ok());
    CHECK(c.replies == 4);
    CHECK(c.rec["stdout"].data == "hello from stdin\n");
    CHECK(c.rec["stderr"].data == "to-err\n");
    CHECK(c.rec["error"].data.find("\"reason\":\"ExitCode\",\"message\":\"7\"") !=
          std::string::npos);
    for (auto& [type, r] : c.rec) CHECK(r.remote_closes == 1);
    // The server reset stdout and stderr after their FINs (spdy-transport's way).
    CHECK(c.rec["stdout"].resets.size() == 1);
    CHECK(c.rec["stderr"].resets.size() == 1);
    CHECK(c.rec["error"].resets.empty());
    // SETTINGS and WINDOW_UPDATE were ignored: nothing was sent back.
    CHECK(c.session.TakeOutput().empty());
  }
}

TEST_CASE("spdy session: our client against the server bytes of the tty and port-forward vectors") {
  SUBCASE("tty + resize") {
    test::Transcript t = test::LoadTranscript(test::VectorsDir() /
                                              "spdy-exec-tty-resize-exit5.kubectl-1.28.transcript");
    VectorClient c;
    for (const char* type : {"error", "stdin", "stdout", "resize"}) c.Open(type);
    CHECK(c.session.Write(c.ids["resize"], "{\"Width\":80,\"Height\":24}\n"));
    for (const auto& p : test::SplitRandom(t.ServerBytes(), 5)) REQUIRE(c.session.Receive(p).ok());
    CHECK(c.replies == 4);
    CHECK(c.rec["stdout"].data == "# stty size\r\n24 80\r\n# stty size\r\n40 120\r\n# exit 5\r\n");
    CHECK(c.rec["error"].data.find("exit status 5") != std::string::npos);
  }
  SUBCASE("port-forward") {
    test::Transcript t = test::LoadTranscript(test::VectorsDir() /
                                              "spdy-portforward-http-get.kubectl-1.28.transcript");
    VectorClient c;
    StreamHeaders h;
    h.Set("port", "18099");
    h.Set("requestid", "0");
    c.Open("error", h);
    c.Open("data", h);
    for (const auto& p : test::SplitBytewise(t.ServerBytes())) REQUIRE(c.session.Receive(p).ok());
    CHECK(c.replies == 2);
    CHECK(c.rec["data"].data.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
    CHECK(c.rec["data"].data.size() == 500);
    CHECK(c.rec["data"].remote_closes == 1);
    CHECK(c.rec["error"].data.empty());
  }
}

TEST_CASE("spdy session: a server session serves the client bytes of the exec vector") {
  test::Transcript t =
      test::LoadTranscript(test::VectorsDir() / "spdy-exec-stdin-exit7.kubectl-1.28.transcript");
  Server server;
  for (const auto& p : test::SplitRandom(t.ClientBytes(), 3))
    REQUIRE(server.session.Receive(p).ok());
  REQUIRE(server.headers.size() == 4);
  CHECK(server.headers[5].Get("streamtype") == "stdout");
  CHECK(server.streams[3]->data == "hello from stdin\n");
  CHECK(server.streams[3]->remote_closes == 1);
  CHECK(server.streams[5]->resets.size() == 1);
  FrameDecoder peek;
  auto frames = DecodeOut(peek, server.session.TakeOutput());
  REQUIRE(frames.size() == 4);
  for (size_t i = 0; i < 4; ++i) {
    CHECK(frames[i].type == FrameType::kSynReply);
    CHECK(frames[i].stream_id == 1 + 2 * i);
  }
}

}  // namespace kproxy::spdy

namespace kproxy::spdy {

TEST_CASE("spdy session: GOAWAY from the peer ends every stream") {
  b::Deflater z;
  SpdySession client(Role::kClient);
  std::vector<SessionEvent> events;
  client.SetEventHandler([&](const SessionEvent& e) { events.push_back(e); });
  Recorder replied, finished, unanswered;
  Status unanswered_reply;
  client.OpenStream(StreamHeaders{{{"streamtype", "stdout"}}}, &replied, nullptr);   // 1
  client.OpenStream(StreamHeaders{{{"streamtype", "stderr"}}}, &finished, nullptr);  // 3
  client.OpenStream(StreamHeaders{{{"streamtype", "resize"}}}, &unanswered,
                    [&](Status st) { unanswered_reply = st; });  // 5
  client.TakeOutput();
  std::string bytes = b::SynReply(z, 1, 0, {});
  bytes += b::SynReply(z, 3, 1, {});
  // spdystream reports last_good = last received id - 2: stream 3 was replied, so it still
  // counts as processed.
  bytes += b::GoAway(1, 0);
  REQUIRE(client.Receive(bytes).ok());
  CHECK(replied.remote_closes == 1);
  CHECK(replied.resets.empty());
  CHECK(finished.remote_closes == 1);  // from its SYN_REPLY FIN, not twice
  CHECK(finished.resets.empty());
  CHECK(unanswered.resets.size() == 1);
  CHECK_FALSE(unanswered_reply.ok());
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == SessionEvent::Kind::kGoAway);
  CHECK(events[0].last_good_stream_id == 1);
  CHECK(client.OpenStreamCount() == 0);
  CHECK_FALSE(client.Write(1, "x"));
  CHECK(client.TakeOutput().empty());  // no GOAWAY echoed, nothing else sent
}

}  // namespace kproxy::spdy

namespace kproxy::spdy {

TEST_CASE("spdy session: HEADERS with FIN half-closes; HEADERS for unknown streams resets") {
  b::Deflater z;
  SpdySession client(Role::kClient);
  Recorder r;
  client.OpenStream(StreamHeaders{{{"streamtype", "stdout"}}}, &r, nullptr);
  client.TakeOutput();
  std::string bytes = b::SynReply(z, 1, 0, {});
  bytes += b::Headers(z, 1, 0, {{"x", "1"}});
  bytes += b::Data(1, 0, "out");
  bytes += b::Headers(z, 1, 1, {{"y", "2"}});
  REQUIRE(client.Receive(bytes).ok());
  CHECK(r.data == "out");
  CHECK(r.remote_closes == 1);
  REQUIRE(client.Receive(b::Headers(z, 11, 0, {{"z", "3"}})).ok());
  CHECK(client.TakeOutput() == b::RstStream(11, 2));
  CHECK_FALSE(client.Failed());
}

TEST_CASE("spdy session: SYN_STREAM with FIN or UNIDIRECTIONAL") {
  b::Deflater z;
  Server server;
  std::string bytes = b::SynStream(z, 1, 1, {{"streamtype", "error"}});  // FIN: nothing follows
  bytes += b::SynStream(z, 3, 2, {{"streamtype", "stdout"}});            // we may not write
  REQUIRE(server.session.Receive(bytes).ok());
  CHECK(server.streams[1]->remote_closes == 1);
  CHECK(server.session.Write(1, "status"));
  CHECK_FALSE(server.session.Write(3, "nope"));
  CHECK(server.session.CloseWrite(1));
  CHECK(server.session.OpenStreamCount() == 1);
}

}  // namespace kproxy::spdy
