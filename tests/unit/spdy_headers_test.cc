#include "core/spdy/spdy_headers.h"

#include <doctest/doctest.h>
#include <zlib.h>

#include <random>
#include <string>

#include "tests/support/spdy_builder.h"

namespace kproxy::spdy {
namespace b = test::spdyb;

namespace {
StreamHeaders H(b::Pairs pairs) { return StreamHeaders{std::move(pairs)}; }
}  // namespace

TEST_CASE("nv block: encoder output equals the hand-built block") {
  CHECK(EncodeNvBlock(H({{"streamtype", "error"}})) == b::NvBlock({{"streamtype", "error"}}));
  CHECK(EncodeNvBlock(H({{"streamtype", "data"}, {"port", "18099"}, {"requestid", "0"}})) ==
        b::NvBlock({{"streamtype", "data"}, {"port", "18099"}, {"requestid", "0"}}));
  CHECK(EncodeNvBlock(H({})) == b::U32(0));
}

TEST_CASE("nv block: names are lower-cased and repeated names NUL-joined") {
  CHECK(EncodeNvBlock(H({{"StreamType", "stdin"}})) == b::NvBlock({{"streamtype", "stdin"}}));
  std::string joined("a\0b", 3);
  CHECK(EncodeNvBlock(H({{"x", "a"}, {"y", "1"}, {"x", "b"}})) ==
        b::NvBlock({{"x", joined}, {"y", "1"}}));
  auto decoded = DecodeNvBlock(b::NvBlock({{"x", joined}, {"y", "1"}}));
  REQUIRE(decoded.ok());
  CHECK(decoded->pairs == b::Pairs{{"x", "a"}, {"x", "b"}, {"y", "1"}});
}

TEST_CASE("nv block: decode keeps wire order and empty values") {
  auto d = DecodeNvBlock(b::NvBlock({{"requestid", "0"}, {"streamtype", "error"}, {"e", ""}}));
  REQUIRE(d.ok());
  CHECK(d->pairs == b::Pairs{{"requestid", "0"}, {"streamtype", "error"}, {"e", ""}});
}

TEST_CASE("nv block: malformed blocks are defined errors") {
  std::string good = b::NvBlock({{"streamtype", "stdout"}});
  for (size_t cut = 0; cut < good.size(); ++cut) {
    auto r = DecodeNvBlock(good.substr(0, cut));
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK(r.error().code == ErrorCode::kProtocol);
  }
  CHECK_FALSE(DecodeNvBlock(good + "x").ok());                                  // trailing bytes
  CHECK_FALSE(DecodeNvBlock(b::NvBlock({{"", "v"}})).ok());                     // empty name
  CHECK_FALSE(DecodeNvBlock(b::NvBlock({{"Upper", "v"}})).ok());                // upper-case name
  CHECK_FALSE(DecodeNvBlock(b::NvBlock({{"a", "1"}, {"a", "2"}})).ok());        // duplicate
  CHECK_FALSE(DecodeNvBlock(b::NvBlock({{"a", std::string("x\0", 2)}})).ok());  // empty segment
  // A count claiming 2^32-1 pairs fails on the limit, before any allocation.
  auto huge = DecodeNvBlock(b::U32(0xFFFFFFFF));
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.error().message.find("too many pairs") != std::string::npos);
  // A length pointing far beyond the block.
  CHECK_FALSE(DecodeNvBlock(b::U32(1) + b::U32(0x7FFFFFFF) + "abc").ok());
}

TEST_CASE("nv block: pair limit") {
  b::Pairs many;
  for (int i = 0; i < 20; ++i) many.emplace_back("h" + std::to_string(i), "v");
  HeaderLimits limits;
  limits.max_pairs = 10;
  CHECK_FALSE(DecodeNvBlock(b::NvBlock(many), limits).ok());
  limits.max_pairs = 20;
  CHECK(DecodeNvBlock(b::NvBlock(many), limits).ok());
}

TEST_CASE("zlib: compressor output equals the builder's independent deflate, block by block") {
  HeaderCompressor ours;
  b::Deflater theirs;
  const b::Pairs blocks[] = {{{"streamtype", "error"}},
                             {{"streamtype", "stdin"}},
                             {{"streamtype", "stdout"}},
                             {{"requestid", "0"}, {"streamtype", "error"}, {"port", "18099"}}};
  for (const auto& pairs : blocks) {
    auto c = ours.CompressHeaders(H(pairs));
    REQUIRE(c.ok());
    CHECK(*c == theirs.Compress(b::NvBlock(pairs)));
  }
}

TEST_CASE("zlib: several blocks through one context, both ways") {
  const b::Pairs blocks[] = {{{"streamtype", "error"}},
                             {{"streamtype", "stdin"}},
                             {{":status", "200 OK"}, {":version", "HTTP/1.1"}},
                             {{"streamtype", "resize"}},
                             {{"streamtype", "stdin"}}};
  SUBCASE("ours compress, builder inflates") {
    HeaderCompressor ours;
    b::Inflater theirs;
    for (const auto& pairs : blocks) {
      auto c = ours.CompressHeaders(H(pairs));
      REQUIRE(c.ok());
      bool ok = false;
      CHECK(theirs.Inflate(*c, &ok) == b::NvBlock(pairs));
      CHECK(ok);
    }
  }
  SUBCASE("builder compresses, ours inflate") {
    b::Deflater theirs;
    HeaderDecompressor ours;
    for (const auto& pairs : blocks) {
      auto d = ours.DecompressHeaders(theirs.Compress(b::NvBlock(pairs)));
      REQUIRE(d.ok());
      CHECK(d->pairs == pairs);
    }
  }
  SUBCASE("a fresh inflate per block fails on the second block") {
    b::Deflater theirs;
    std::string first = theirs.Compress(b::NvBlock(blocks[0]));
    std::string second = theirs.Compress(b::NvBlock(blocks[1]));
    HeaderDecompressor a;
    CHECK(a.DecompressHeaders(first).ok());
    HeaderDecompressor fresh;
    CHECK_FALSE(fresh.DecompressHeaders(second).ok());
  }
}

TEST_CASE("zlib: bad data, wrong dictionary and bombs fail cleanly and stay failed") {
  SUBCASE("garbage") {
    HeaderDecompressor d;
    auto r = d.Decompress("\x78\xbb\xff\xff\xff\xff garbage");
    CHECK_FALSE(r.ok());
    // Sticky: a valid block afterwards is refused too.
    b::Deflater z;
    CHECK_FALSE(d.Decompress(z.Compress(b::NvBlock({{"a", "b"}}))).ok());
  }
  SUBCASE("wrong dictionary") {
    z_stream z{};
    deflateInit(&z, Z_DEFAULT_COMPRESSION);
    const char other[] = "not the spdy dictionary";
    deflateSetDictionary(&z, reinterpret_cast<const Bytef*>(other), sizeof(other));
    std::string in = b::NvBlock({{"a", "b"}});
    std::string out(256, '\0');
    z.next_in = reinterpret_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_SYNC_FLUSH);
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    HeaderDecompressor d;
    auto r = d.Decompress(out);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("dictionary") != std::string::npos);
  }
  SUBCASE("decompression bomb stops at the limit") {
    b::Deflater z;
    std::string bomb = z.Compress(std::string(4u << 20, 'A'));  // 4 MiB of 'A'
    CHECK(bomb.size() < 16 * 1024);
    HeaderLimits limits;
    limits.max_block = 64 * 1024;
    HeaderDecompressor d(limits);
    auto r = d.Decompress(bomb);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("larger than") != std::string::npos);
  }
}

}  // namespace kproxy::spdy
