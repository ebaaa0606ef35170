#include "core/spdy/spdy_format.h"

#include <doctest/doctest.h>
#include <zlib.h>

#include <string>

#include "tests/support/spdy_builder.h"

namespace kproxy::spdy {

TEST_CASE("spdy dictionary: 1423 bytes with Adler-32 0xE3C6A7C2") {
  CHECK(kDictionarySize == 1423);
  uLong adler = adler32(0L, Z_NULL, 0);
  adler = adler32(adler, kDictionary, kDictionarySize);
  CHECK(adler == 0xE3C6A7C2u);
  CHECK(adler == kDictionaryAdler32);
}

TEST_CASE("spdy dictionary: matches the builder's copy rebuilt from the draft's word list") {
  const std::string& rebuilt = test::spdyb::Dictionary();
  REQUIRE(rebuilt.size() == kDictionarySize);
  CHECK(rebuilt == std::string(reinterpret_cast<const char*>(kDictionary), kDictionarySize));
}

TEST_CASE("spdy wire constants") {
  CHECK(static_cast<uint16_t>(ControlType::kSynStream) == 1);
  CHECK(static_cast<uint16_t>(ControlType::kPing) == 6);
  CHECK(static_cast<uint16_t>(ControlType::kWindowUpdate) == 9);
  CHECK(static_cast<uint32_t>(RstStatus::kCancel) == 5);
  CHECK(static_cast<uint32_t>(RstStatus::kFrameTooLarge) == 11);
  CHECK(kFrameHeaderSize == 8);
}

}  // namespace kproxy::spdy
