#include "core/spdy/spdy_frame.h"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/support/spdy_builder.h"
#include "tests/support/transcript.h"

namespace kproxy::spdy {
namespace b = test::spdyb;
namespace {

struct Out {
  std::vector<Frame> frames;
  Status status;
};

Out Decode(const std::string& bytes, DecoderLimits limits = {}) {
  Out o;
  FrameDecoder d(limits);
  o.status = d.Feed(bytes, [&](Frame&& f) { o.frames.push_back(std::move(f)); });
  return o;
}

Out DecodePieces(const std::vector<std::string>& pieces) {
  Out o;
  FrameDecoder d;
  for (const auto& p : pieces) {
    o.status = d.Feed(p, [&](Frame&& f) { o.frames.push_back(std::move(f)); });
    if (!o.status.ok()) break;
  }
  return o;
}

std::string Msg(const Out& o) { return o.status.ok() ? "" : o.status.error().message; }

}  // namespace

TEST_CASE("spdy encoder: bytes equal the independent builder's") {
  FrameEncoder enc;
  b::Deflater z;
  StreamHeaders error_hdr{{{"streamtype", "error"}}};
  StreamHeaders pf{{{"streamtype", "data"}, {"port", "8080"}, {"requestid", "3"}}};
  // Header-bearing frames share one deflate context, in order, on both sides.
  CHECK(*enc.SynStream(1, error_hdr) == b::SynStream(z, 1, 0, error_hdr.pairs));
  CHECK(*enc.SynStream(3, pf, kFlagFin) == b::SynStream(z, 3, 1, pf.pairs));
  CHECK(*enc.SynReply(2, {}) == b::SynReply(z, 2, 0, {}));
  Frame h;
  h.type = FrameType::kHeaders;
  h.stream_id = 5;
  h.headers = error_hdr;
  CHECK(*enc.Encode(h) == b::Headers(z, 5, 0, error_hdr.pairs));
  Frame syn;
  syn.type = FrameType::kSynStream;
  syn.stream_id = 7;
  syn.assoc_id = 1;
  syn.priority = 3;
  syn.headers = pf;
  CHECK(*enc.Encode(syn) == b::SynStream(z, 7, 0, pf.pairs, 1, 3));

  CHECK(FrameEncoder::Data(3, "hello", 0) == b::Data(3, 0, "hello"));
  CHECK(FrameEncoder::Data(3, "", kFlagFin) == b::Data(3, 1, ""));
  CHECK(FrameEncoder::RstStream(5, RstStatus::kCancel) == b::RstStream(5, 5));
  CHECK(FrameEncoder::Ping(7) == b::Ping(7));
  CHECK(FrameEncoder::GoAway(9, GoAwayStatus::kOk) == b::GoAway(9, 0));
  CHECK(FrameEncoder::WindowUpdate(0, 65536) == b::WindowUpdate(0, 65536));
  Frame s;
  s.type = FrameType::kSettings;
  s.settings = {{1, 7, 1 << 20}};
  CHECK(*enc.Encode(s) == b::Settings({{7, 1u << 20}}, 1));
}

TEST_CASE("spdy encoder: refuses ids over 31 bits") {
  FrameEncoder enc;
  Frame f;
  f.type = FrameType::kSynStream;
  f.stream_id = 0x80000001u;
  CHECK_FALSE(enc.Encode(f).ok());
}

TEST_CASE("spdy decoder: builder frames, whole, bytewise and random splits") {
  b::Deflater z;
  // Header frames are built in statement order: they share one deflate context.
  std::string bytes = b::SynStream(z, 1, 0, {{"streamtype", "error"}});
  bytes += b::SynReply(z, 1, 0, {});
  bytes += b::Data(1, 0, "abc") + b::Ping(2) + b::Settings({{7, 1024}}) + b::WindowUpdate(1, 10);
  bytes += b::Headers(z, 1, 1, {{"x", "y"}});
  bytes += b::RstStream(1, 5) + b::GoAway(1, 0) + b::Data(3, 1, "");
  for (auto pieces : {test::SplitWhole(bytes), test::SplitBytewise(bytes),
                      test::SplitRandom(bytes, 9), test::SplitRandom(bytes, 10)}) {
    Out o = DecodePieces(pieces);
    INFO(Msg(o));
    REQUIRE(o.status.ok());
    REQUIRE(o.frames.size() == 10);
    CHECK(o.frames[0].type == FrameType::kSynStream);
    CHECK(o.frames[0].headers.Get("streamtype") == "error");
    CHECK(o.frames[1].type == FrameType::kSynReply);
    CHECK(o.frames[1].headers.pairs.empty());
    CHECK(o.frames[2].data == "abc");
    CHECK(o.frames[3].ping_id == 2);
    CHECK(o.frames[4].settings.size() == 1);
    CHECK(o.frames[4].settings[0].value == 1024);
    CHECK(o.frames[5].delta == 10);
    CHECK(o.frames[6].type == FrameType::kHeaders);
    CHECK(o.frames[6].fin());
    CHECK(o.frames[6].headers.Get("x") == "y");
    CHECK(o.frames[7].status == 5);
    CHECK(o.frames[8].type == FrameType::kGoAway);
    CHECK(o.frames[9].fin());
    CHECK(o.frames[9].stream_id == 3);
  }
}

TEST_CASE("spdy decoder: round trip through our own encoder (extra check)") {
  FrameEncoder enc;
  std::string bytes = *enc.SynStream(1, StreamHeaders{{{"streamtype", "stdin"}}});
  bytes += *enc.SynStream(3, StreamHeaders{{{"streamtype", "stdout"}}});
  bytes += FrameEncoder::Data(1, std::string(100000, 'x'));
  Out o = Decode(bytes);
  INFO(Msg(o));
  REQUIRE(o.status.ok());
  REQUIRE(o.frames.size() == 3);
  CHECK(o.frames[1].headers.Get("streamtype") == "stdout");
  CHECK(o.frames[2].data.size() == 100000);
}

TEST_CASE("spdy decoder: unknown control types are skipped, even split bytewise") {
  std::string bytes = b::Control(5, 0, "") + b::Control(10, 0, std::string(300, 'z')) +
                      b::Control(0xFFFF, 0xFF, "abcd") + b::Ping(4);
  FrameDecoder d;
  std::vector<Frame> frames;
  for (const auto& p : test::SplitBytewise(bytes))
    REQUIRE(d.Feed(p, [&](Frame&& f) { frames.push_back(std::move(f)); }).ok());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].ping_id == 4);
  CHECK(d.skipped_frames() == 3);
  // The skip does not buffer: an unknown frame larger than the payload limit is fine too.
  DecoderLimits small;
  small.max_frame_payload = 16;
  Out o = Decode(b::Control(77, 0, std::string(1000, 'q')) + b::Ping(6), small);
  CHECK(o.status.ok());
  CHECK(o.frames.size() == 1);
}

TEST_CASE("spdy decoder: malformed input is a defined, sticky error") {
  b::Deflater z;
  SUBCASE("wrong version") {
    Out o = Decode(b::Control(6, 0, b::U32(1), 2));
    CHECK(Msg(o).find("unsupported version 2") != std::string::npos);
  }
  SUBCASE("bad fixed lengths") {
    CHECK(Msg(Decode(b::Control(6, 0, "abc"))).find("PING with bad length") != std::string::npos);
    CHECK_FALSE(Decode(b::Control(3, 0, b::U32(1))).status.ok());
    CHECK_FALSE(Decode(b::Control(7, 0, b::U32(1))).status.ok());
    CHECK_FALSE(Decode(b::Control(9, 0, b::U32(1) + b::U32(1) + "x")).status.ok());
    CHECK_FALSE(Decode(b::Control(1, 0, "short")).status.ok());
    CHECK_FALSE(Decode(b::Control(2, 0, "ab")).status.ok());
    CHECK_FALSE(Decode(b::Control(4, 0, b::U32(2) + b::U32(7) + b::U32(1))).status.ok());
  }
  SUBCASE("frame larger than the limit fails on its header, before buffering") {
    DecoderLimits limits;
    limits.max_frame_payload = 1024;
    FrameDecoder d(limits);
    // Only the 8-byte header is fed: the 16 MiB payload is never waited for.
    std::string header = b::Data(1, 0, "").substr(0, 5) + "\xff\xff\xff";
    Status st = d.Feed(header, [](Frame&&) {});
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message.find("exceeds limit") != std::string::npos);
  }
  SUBCASE("DATA on stream 0 and header frames on stream 0") {
    CHECK_FALSE(Decode(b::Data(0, 0, "x")).status.ok());
    CHECK_FALSE(Decode(b::SynStream(z, 0, 0, {{"a", "b"}})).status.ok());
  }
  SUBCASE("bad zlib data in a header block") {
    Out o = Decode(b::Control(1, 0, b::U32(1) + b::U32(0) + "\0\0" + "not zlib at all"));
    REQUIRE_FALSE(o.status.ok());
    CHECK(o.status.error().code == ErrorCode::kProtocol);
  }
  SUBCASE("oversize header block, compressed and decompressed") {
    b::Pairs big = {{"x", std::string(300 * 1024, 'v')}};
    DecoderLimits limits;
    Out o = Decode(b::SynStream(z, 1, 0, big), limits);  // compresses small, inflates huge
    REQUIRE_FALSE(o.status.ok());
    CHECK(Msg(o).find("larger than") != std::string::npos);
    limits.max_frame_payload = 64;
    b::Deflater z2;
    std::string random_value;
    std::mt19937 rng(5);
    for (int i = 0; i < 500; ++i) random_value += static_cast<char>('a' + rng() % 26);
    Out o2 = Decode(b::SynStream(z2, 1, 0, {{"x", random_value}}), limits);
    INFO(Msg(o2));
    CHECK(Msg(o2).find("exceeds limit") != std::string::npos);
  }
  SUBCASE("too many pairs") {
    b::Pairs many;
    for (int i = 0; i < 2000; ++i) many.emplace_back("h" + std::to_string(i), "v");
    Out o = Decode(b::SynStream(z, 1, 0, many));
    CHECK(Msg(o).find("too many pairs") != std::string::npos);
  }
  SUBCASE("errors are sticky") {
    FrameDecoder d;
    int frames = 0;
    auto count = [&](Frame&&) { ++frames; };
    Status st = d.Feed(b::Control(6, 0, b::U32(1), 1), count);
    REQUIRE_FALSE(st.ok());
    Status again = d.Feed(b::Ping(1), count);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().message == st.error().message);
    CHECK(frames == 0);
  }
}

TEST_CASE("spdy decoder: truncated input is incomplete, never an error or a frame") {
  b::Deflater z;
  std::string frame = b::SynStream(z, 1, 0, {{"streamtype", "stdin"}});
  for (size_t cut = 0; cut < frame.size(); ++cut) {
    FrameDecoder d;
    int n = 0;
    CHECK(d.Feed(frame.substr(0, cut), [&](Frame&&) { ++n; }).ok());
    CHECK(n == 0);
    CHECK(d.AtFrameBoundary() == (cut == 0));
  }
}

}  // namespace kproxy::spdy
