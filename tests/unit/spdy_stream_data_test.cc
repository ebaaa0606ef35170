// The decoder's streamed DATA path (FrameDecoder::Feed with a DataFn): DATA payloads come out
// as views into the input, in pieces, and must add up to exactly what the whole-frame path
// gives for any split of the input. Expected values come from the independent test builder.
#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/spdy/spdy_frame.h"
#include "core/spdy/spdy_session.h"
#include "tests/support/spdy_builder.h"
#include "tests/support/transcript.h"

namespace kproxy::spdy {
namespace b = test::spdyb;
namespace {

// What a consumer sees: control frames by type, and each DATA frame reassembled.
struct Event {
  FrameType type = FrameType::kData;
  uint32_t stream_id = 0;
  std::string data;
  bool fin = false;
  uint32_t ping_id = 0;
  bool operator==(const Event&) const = default;
};

struct Streamed {
  std::vector<Event> events;
  Status status;
  size_t pieces = 0;
  bool ordered = true;  // first/last flags arrived in a valid order
};

Streamed DecodeStreamed(const std::vector<std::string>& pieces, DecoderLimits limits = {}) {
  Streamed s;
  FrameDecoder d(limits);
  bool in_data = false;
  auto on_frame = [&](Frame&& f) {
    if (in_data) s.ordered = false;  // a control frame inside a DATA frame
    Event e;
    e.type = f.type;
    e.stream_id = f.stream_id;
    e.fin = f.fin();
    e.ping_id = f.ping_id;
    s.events.push_back(e);
  };
  auto on_data = [&](const DataPiece& p) {
    ++s.pieces;
    if (p.first == in_data) s.ordered = false;
    if (p.first) {
      Event e;
      e.stream_id = p.stream_id;
      s.events.push_back(e);
      in_data = true;
    }
    if (s.events.empty() || s.events.back().stream_id != p.stream_id) s.ordered = false;
    s.events.back().data.append(p.bytes);
    if (p.last) {
      s.events.back().fin = p.fin();
      in_data = false;
    }
  };
  for (const auto& p : pieces) {
    s.status = d.Feed(p, on_frame, on_data);
    if (!s.status.ok()) break;
  }
  if (in_data) s.ordered = false;
  return s;
}

std::string Stream() {
  std::string bytes = b::Ping(2);
  bytes += b::Data(1, 0, "hello");
  bytes += b::Data(3, 0, std::string(70000, 'q'));
  bytes += b::Data(1, kFlagFin, "");
  bytes += b::WindowUpdate(3, 100);
  bytes += b::Data(3, kFlagFin, "end");
  bytes += b::Ping(4);
  return bytes;
}

std::vector<Event> Expected() {
  std::vector<Event> e(7);
  e[0].type = FrameType::kPing;
  e[0].ping_id = 2;
  e[1] = {FrameType::kData, 1, "hello"};
  e[2] = {FrameType::kData, 3, std::string(70000, 'q')};
  e[3] = {FrameType::kData, 1, "", true};
  e[4].type = FrameType::kWindowUpdate;
  e[4].stream_id = 3;
  e[5] = {FrameType::kData, 3, "end", true};
  e[6].type = FrameType::kPing;
  e[6].ping_id = 4;
  return e;
}

}  // namespace

TEST_CASE("spdy decoder (streamed DATA): whole, bytewise and random splits give the same") {
  std::string bytes = Stream();
  std::vector<std::vector<std::string>> splits = {test::SplitWhole(bytes),
                                                  test::SplitBytewise(bytes)};
  for (uint32_t seed = 1; seed <= 20; ++seed) splits.push_back(test::SplitRandom(bytes, seed));
  for (const auto& pieces : splits) {
    Streamed s = DecodeStreamed(pieces);
    REQUIRE(s.status.ok());
    CHECK(s.ordered);
    CHECK(s.events == Expected());
  }
}

TEST_CASE("spdy decoder (streamed DATA): a frame inside one input is one view, not a copy") {
  std::string bytes = b::Data(5, kFlagFin, std::string(100000, 'z'));
  FrameDecoder d;
  const char* seen = nullptr;
  size_t calls = 0;
  REQUIRE(d.Feed(
               bytes, [](Frame&&) {},
               [&](const DataPiece& p) {
                 ++calls;
                 seen = p.bytes.data();
                 CHECK(p.first);
                 CHECK(p.last);
                 CHECK(p.fin());
                 CHECK(p.bytes.size() == 100000);
               })
              .ok());
  CHECK(calls == 1);
  CHECK(seen == bytes.data() + 8);  // points into our input, after the 8-byte header
  CHECK(d.AtFrameBoundary());
}

TEST_CASE("spdy decoder (streamed DATA): a split frame is delivered as it arrives") {
  std::string bytes = b::Data(7, 0, "abcdef");
  FrameDecoder d;
  std::vector<std::string> got;
  auto on_data = [&](const DataPiece& p) { got.emplace_back(p.bytes); };
  auto none = [](Frame&&) {};
  REQUIRE(d.Feed(bytes.substr(0, 10), none, on_data).ok());  // header + "ab"
  CHECK(got == std::vector<std::string>{"ab"});
  CHECK_FALSE(d.AtFrameBoundary());
  REQUIRE(d.Feed(bytes.substr(10, 2), none, on_data).ok());
  REQUIRE(d.Feed(bytes.substr(12), none, on_data).ok());
  CHECK(got == std::vector<std::string>{"ab", "cd", "ef"});
  CHECK(d.AtFrameBoundary());
}

TEST_CASE("spdy decoder (streamed DATA): limits and malformed input still fail the same") {
  DecoderLimits small;
  small.max_frame_payload = 1024;
  SUBCASE("oversize DATA fails on its header, nothing delivered") {
    Streamed s = DecodeStreamed({b::Data(1, 0, std::string(2000, 'x'))}, small);
    REQUIRE_FALSE(s.status.ok());
    CHECK(s.status.error().message.find("exceeds limit") != std::string::npos);
    CHECK(s.pieces == 0);
  }
  SUBCASE("DATA on stream 0") {
    Streamed s = DecodeStreamed({b::Data(0, 0, "x")});
    REQUIRE_FALSE(s.status.ok());
    CHECK(s.pieces == 0);
  }
  SUBCASE("random garbage: a defined error or frames, never a crash") {
    std::mt19937 rng(11);
    for (int round = 0; round < 200; ++round) {
      std::string junk(1 + rng() % 300, '\0');
      for (auto& c : junk) c = static_cast<char>(rng());
      if (round % 2) junk[0] = static_cast<char>(junk[0] & 0x7F);  // look like DATA
      Streamed s = DecodeStreamed(test::SplitRandom(junk, static_cast<uint32_t>(round)), small);
      if (!s.status.ok()) CHECK(s.status.error().code == ErrorCode::kProtocol);
    }
  }
}

namespace {

struct Sink : StreamHandler {
  std::string data;
  int remote_closes = 0, resets = 0;
  std::function<void(std::string_view)> on_data;
  void OnData(std::string_view bytes) override {
    data += bytes;
    if (on_data) on_data(bytes);
  }
  void OnRemoteClose() override { ++remote_closes; }
  void OnReset(std::string_view) override { ++resets; }
};

// A server session in streamed mode fed `bytes` split as given; returns its sinks and the
// frames it sent back.
struct StreamedServer {
  SpdySession session{Role::kServer};
  std::map<StreamId, std::unique_ptr<Sink>> sinks;
  std::vector<Frame> sent;
  FrameDecoder out_decoder;
  StreamedServer() {
    session.SetStreamedData(true);
    session.SetAcceptHandler([this](StreamId id, const StreamHeaders&) -> StreamHandler* {
      auto& s = sinks[id];
      s = std::make_unique<Sink>();
      return s.get();
    });
  }
  Status Feed(const std::vector<std::string>& pieces) {
    for (const auto& p : pieces) {
      Status st = session.Receive(p);
      std::string out = session.TakeOutput();
      (void)out_decoder.Feed(out, [&](Frame&& f) { sent.push_back(std::move(f)); });
      if (!st.ok()) return st;
    }
    return Status::Ok();
  }
};

}  // namespace

TEST_CASE("spdy session (streamed DATA): any split delivers the same bytes, FIN and errors") {
  b::Deflater z;
  std::string bytes = b::SynStream(z, 1, 0, {{"streamtype", "data"}});
  bytes += b::SynStream(z, 3, 0, {{"streamtype", "error"}});
  bytes += b::Data(1, 0, std::string(40000, 'a'));
  bytes += b::Data(3, 0, "oops");
  bytes += b::Data(9, 0, "never opened");  // RST INVALID_STREAM, session lives
  bytes += b::Data(1, kFlagFin, std::string(30000, 'b'));
  bytes += b::Data(1, 0, "after fin");  // RST STREAM_ALREADY_CLOSED
  bytes += b::Ping(1);
  std::vector<std::vector<std::string>> splits = {test::SplitWhole(bytes),
                                                  test::SplitBytewise(bytes)};
  for (uint32_t seed = 1; seed <= 10; ++seed) splits.push_back(test::SplitRandom(bytes, seed));
  for (const auto& pieces : splits) {
    StreamedServer srv;
    REQUIRE(srv.Feed(pieces).ok());
    REQUIRE(srv.sinks.count(1) == 1);
    CHECK(srv.sinks[1]->data == std::string(40000, 'a') + std::string(30000, 'b'));
    CHECK(srv.sinks[1]->remote_closes == 1);
    CHECK(srv.sinks[3]->data == "oops");
    std::vector<std::pair<uint32_t, uint32_t>> rsts;
    int pings = 0;
    for (const auto& f : srv.sent) {
      if (f.type == FrameType::kRstStream) rsts.emplace_back(f.stream_id, f.status);
      if (f.type == FrameType::kPing) ++pings;
    }
    CHECK(rsts == std::vector<std::pair<uint32_t, uint32_t>>{
                      {9, static_cast<uint32_t>(RstStatus::kInvalidStream)},
                      {1, static_cast<uint32_t>(RstStatus::kStreamAlreadyClosed)}});
    CHECK(pings == 1);
  }
}

TEST_CASE("spdy session (streamed DATA): a handler resetting its stream mid-frame gets no more") {
  b::Deflater z;
  std::string bytes = b::SynStream(z, 1, 0, {{"streamtype", "data"}});
  bytes += b::Data(1, 0, std::string(1000, 'x'));
  bytes += b::Ping(1);
  StreamedServer srv;
  srv.session.SetAcceptHandler([&](StreamId id, const StreamHeaders&) -> StreamHandler* {
    auto& s = srv.sinks[id];
    s = std::make_unique<Sink>();
    s->on_data = [&srv, id](std::string_view) { srv.session.Reset(id); };
    return s.get();
  });
  // Header and first 100 payload bytes, then the rest in pieces.
  size_t head = bytes.size() - 1000 - b::Ping(1).size();
  REQUIRE(srv.Feed({bytes.substr(0, head + 100), bytes.substr(head + 100, 300),
                    bytes.substr(head + 400)})
              .ok());
  CHECK(srv.sinks[1]->data.size() == 100);  // the first piece only
  int pings = 0;
  for (const auto& f : srv.sent) pings += f.type == FrameType::kPing;
  CHECK(pings == 1);  // the session went on
}

}  // namespace kproxy::spdy
