// RFC 6455 frame codec (tests/support/ws_frame). Expected bytes are written out by hand from
// RFC 6455 §5.7 and §5.2, never produced by our encoder.
#include "tests/support/ws_frame.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/support/transcript.h"

namespace kproxy::test::ws {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

std::vector<std::vector<std::string>> AllSplits(const std::string& bytes) {
  return {SplitWhole(bytes), SplitBytewise(bytes), SplitRandom(bytes, 1), SplitRandom(bytes, 42),
          SplitRandom(bytes, 9001)};
}

struct Decoded {
  std::vector<Message> messages;
  Status status;
};

Decoded DecodeMessages(Role reader, const std::vector<std::string>& parts,
                       size_t max = 16 * 1024 * 1024) {
  MessageDecoder d(reader, max);
  Decoded out;
  for (const auto& p : parts) {
    out.status = d.Feed(p, &out.messages);
    if (!out.status.ok()) break;
  }
  return out;
}

const MaskKey kRfcMask = {0x37, 0xfa, 0x21, 0x3d};

}  // namespace

TEST_CASE("ws frame: RFC 6455 5.7 single-frame unmasked text") {
  const std::string wire = Bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  for (const auto& parts : AllSplits(wire)) {
    Decoded d = DecodeMessages(Role::kClient, parts);
    REQUIRE(d.status.ok());
    REQUIRE(d.messages.size() == 1);
    CHECK(d.messages[0].kind == Message::Kind::kText);
    CHECK(d.messages[0].payload == "Hello");
  }
  CHECK(EncodeFrame(Opcode::kText, "Hello") == wire);
}

TEST_CASE("ws frame: RFC 6455 5.7 single-frame masked text") {
  const std::string wire =
      Bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  for (const auto& parts : AllSplits(wire)) {
    Decoded d = DecodeMessages(Role::kServer, parts);
    REQUIRE(d.status.ok());
    REQUIRE(d.messages.size() == 1);
    CHECK(d.messages[0].payload == "Hello");
  }
  CHECK(EncodeFrame(Opcode::kText, "Hello", true, kRfcMask) == wire);
}

TEST_CASE("ws frame: RFC 6455 5.7 fragmented unmasked text") {
  const std::string wire = Bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f});
  for (const auto& parts : AllSplits(wire)) {
    Decoded d = DecodeMessages(Role::kClient, parts);
    REQUIRE(d.status.ok());
    REQUIRE(d.messages.size() == 1);
    CHECK(d.messages[0].kind == Message::Kind::kText);
    CHECK(d.messages[0].payload == "Hello");
  }
  CHECK(EncodeFrame(Opcode::kText, "Hel", false) + EncodeFrame(Opcode::kContinuation, "lo") ==
        wire);
}

TEST_CASE("ws frame: RFC 6455 5.7 ping and masked pong") {
  const std::string ping = Bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  const std::string pong =
      Bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  Decoded d = DecodeMessages(Role::kClient, {ping});
  REQUIRE(d.messages.size() == 1);
  CHECK(d.messages[0].kind == Message::Kind::kPing);
  CHECK(d.messages[0].payload == "Hello");
  d = DecodeMessages(Role::kServer, SplitBytewise(pong));
  REQUIRE(d.messages.size() == 1);
  CHECK(d.messages[0].kind == Message::Kind::kPong);
  CHECK(d.messages[0].payload == "Hello");
  CHECK(EncodeFrame(Opcode::kPong, "Hello", true, kRfcMask) == pong);
}

TEST_CASE("ws frame: RFC 6455 5.7 256-byte and 64 KiB binary") {
  const std::string p256(256, '\xAB');
  const std::string w256 = Bytes({0x82, 0x7E, 0x01, 0x00}) + p256;
  const std::string p64k(65536, '\x5A');
  const std::string w64k = Bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}) + p64k;
  for (const auto& parts : {SplitWhole(w256 + w64k), SplitRandom(w256 + w64k, 5)}) {
    Decoded d = DecodeMessages(Role::kClient, parts);
    REQUIRE(d.status.ok());
    REQUIRE(d.messages.size() == 2);
    CHECK(d.messages[0].payload == p256);
    CHECK(d.messages[1].payload == p64k);
  }
  CHECK(EncodeFrame(Opcode::kBinary, p256) == w256);
  CHECK(EncodeFrame(Opcode::kBinary, p64k) == w64k);
}

TEST_CASE("ws frame: length boundaries 0/125/126/65535/65536") {
  struct Case {
    size_t n;
    std::string header;
  };
  const std::vector<Case> cases = {
      {0, Bytes({0x82, 0x00})},
      {125, Bytes({0x82, 0x7D})},
      {126, Bytes({0x82, 0x7E, 0x00, 0x7E})},
      {65535, Bytes({0x82, 0x7E, 0xFF, 0xFF})},
      {65536, Bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00})},
  };
  for (const auto& c : cases) {
    CAPTURE(c.n);
    const std::string payload(c.n, 'x');
    const std::string wire = c.header + payload;
    CHECK(EncodeFrame(Opcode::kBinary, payload) == wire);
    Decoded d = DecodeMessages(Role::kClient, SplitRandom(wire, static_cast<uint32_t>(c.n)));
    REQUIRE(d.status.ok());
    REQUIRE(d.messages.size() == 1);
    CHECK(d.messages[0].payload.size() == c.n);
  }
}

TEST_CASE("ws frame: masked 126-byte client frame with a fixed key") {
  const MaskKey key = {0x01, 0x02, 0x03, 0x04};
  const std::string payload(126, '\0');
  std::string wire = Bytes({0x82, 0xFE, 0x00, 0x7E, 0x01, 0x02, 0x03, 0x04});
  for (size_t i = 0; i < 126; ++i) wire.push_back(static_cast<char>(key[i % 4]));
  CHECK(EncodeFrame(Opcode::kBinary, payload, true, key) == wire);
  Decoded d = DecodeMessages(Role::kServer, SplitBytewise(wire));
  REQUIRE(d.messages.size() == 1);
  CHECK(d.messages[0].payload == payload);
}

TEST_CASE("ws frame: control frames interleaved between fragments") {
  const std::string wire = Bytes({0x02, 0x02, 'a', 'b'}) + Bytes({0x89, 0x01, 'p'}) +
                           Bytes({0x00, 0x01, 'c'}) + Bytes({0x8A, 0x00}) +
                           Bytes({0x80, 0x01, 'd'});
  for (const auto& parts : AllSplits(wire)) {
    Decoded d = DecodeMessages(Role::kClient, parts);
    REQUIRE(d.status.ok());
    REQUIRE(d.messages.size() == 3);
    CHECK(d.messages[0].kind == Message::Kind::kPing);
    CHECK(d.messages[0].payload == "p");
    CHECK(d.messages[1].kind == Message::Kind::kPong);
    CHECK(d.messages[2].kind == Message::Kind::kBinary);
    CHECK(d.messages[2].payload == "abcd");
  }
}

TEST_CASE("ws frame: close with code and reason, and empty close") {
  const std::string wire =
      Bytes({0x88, 0x06, 0x03, 0xE8, 'b', 'y', 'e', '!'}) + Bytes({0x88, 0x00});
  Decoded d = DecodeMessages(Role::kClient, SplitBytewise(wire));
  REQUIRE(d.status.ok());
  REQUIRE(d.messages.size() == 2);
  CHECK(d.messages[0].kind == Message::Kind::kClose);
  CHECK(d.messages[0].close_code == 1000);
  CHECK(d.messages[0].payload == "bye!");
  CHECK(!d.messages[1].close_code.has_value());
  CHECK(EncodeClose(1000, "bye!") == wire.substr(0, 8));
  // The reason is cut so the frame stays a legal control frame.
  CHECK(EncodeClose(1000, std::string(200, 'r')).size() == 2 + 125);
}

TEST_CASE("ws frame: UTF-8 split across fragments is valid once assembled") {
  // U+20AC (E2 82 AC) split 1|2 over two fragments.
  const std::string wire = Bytes({0x01, 0x02, 'a', 0xE2, 0x80, 0x02, 0x82, 0xAC});
  Decoded d = DecodeMessages(Role::kClient, SplitBytewise(wire));
  REQUIRE(d.status.ok());
  REQUIRE(d.messages.size() == 1);
  CHECK(d.messages[0].payload == "a\xE2\x82\xAC");
  CHECK(IsValidUtf8("\xF0\x9F\x98\x80"));
  CHECK(!IsValidUtf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  // Binary messages are not checked.
  d = DecodeMessages(Role::kClient, {Bytes({0x82, 0x01, 0xFF})});
  CHECK(d.status.ok());
}

TEST_CASE("ws frame: zero-length text message") {
  Decoded d = DecodeMessages(Role::kClient, {Bytes({0x81, 0x00})});
  REQUIRE(d.messages.size() == 1);
  CHECK(d.messages[0].kind == Message::Kind::kText);
  CHECK(d.messages[0].payload.empty());
}

TEST_CASE("ws frame: malformed input fails with a defined close code and stays failed") {
  struct Case {
    const char* name;
    Role reader;
    std::string wire;
    uint16_t code;
  };
  const std::vector<Case> cases = {
      {"non-minimal 16-bit length", Role::kClient, Bytes({0x82, 0x7E, 0x00, 0x7D}), 1002},
      {"non-minimal 64-bit length", Role::kClient,
       Bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}), 1002},
      {"64-bit length MSB", Role::kClient, Bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}), 1002},
      {"masked server frame", Role::kClient, Bytes({0x82, 0x81, 1, 2, 3, 4, 5}), 1002},
      {"unmasked client frame", Role::kServer, Bytes({0x82, 0x01, 'x'}), 1002},
      {"control frame > 125", Role::kClient, Bytes({0x89, 0x7E, 0x00, 0x7E}), 1002},
      {"fragmented control frame", Role::kClient, Bytes({0x09, 0x00}), 1002},
      {"RSV1 without extension", Role::kClient, Bytes({0xC2, 0x00}), 1002},
      {"RSV3 without extension", Role::kClient, Bytes({0x92, 0x00}), 1002},
      {"reserved data opcode", Role::kClient, Bytes({0x83, 0x00}), 1002},
      {"reserved control opcode", Role::kClient, Bytes({0x8B, 0x00}), 1002},
      {"continuation without start", Role::kClient, Bytes({0x80, 0x01, 'x'}), 1002},
      {"data frame inside a message", Role::kClient, Bytes({0x01, 0x01, 'x', 0x81, 0x01, 'y'}),
       1002},
      {"1-byte close", Role::kClient, Bytes({0x88, 0x01, 0x03}), 1002},
      {"reserved close code 1005", Role::kClient, Bytes({0x88, 0x02, 0x03, 0xED}), 1002},
      {"close code 999", Role::kClient, Bytes({0x88, 0x02, 0x03, 0xE7}), 1002},
      {"text not UTF-8", Role::kClient, Bytes({0x81, 0x02, 0xC3, 0x28}), 1007},
      {"text overlong NUL", Role::kClient, Bytes({0x81, 0x02, 0xC0, 0x80}), 1007},
      {"text surrogate", Role::kClient, Bytes({0x81, 0x03, 0xED, 0xA0, 0x80}), 1007},
      {"text truncated sequence", Role::kClient, Bytes({0x81, 0x02, 'a', 0xE2}), 1007},
      {"close reason not UTF-8", Role::kClient, Bytes({0x88, 0x03, 0x03, 0xE8, 0xFF}), 1007},
      {"huge length beyond the limit", Role::kClient,
       Bytes({0x82, 0x7F, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0}), 1009},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    for (const auto& parts : {SplitWhole(c.wire), SplitBytewise(c.wire)}) {
      MessageDecoder d(c.reader, 1 << 20);
      std::vector<Message> out;
      Status s;
      for (const auto& p : parts)
        if (s = d.Feed(p, &out); !s.ok()) break;
      CHECK(!s.ok());
      CHECK(s.error().code == ErrorCode::kProtocol);
      CHECK(d.failed());
      CHECK(d.error_close_code() == c.code);
      // Sticky: even a valid frame is refused afterwards.
      const std::string ok_frame = c.reader == Role::kServer
                                       ? EncodeFrame(Opcode::kText, "ok", true, kRfcMask)
                                       : EncodeFrame(Opcode::kText, "ok");
      const size_t before = out.size();
      CHECK(!d.Feed(ok_frame, &out).ok());
      CHECK(out.size() == before);
    }
  }
}

TEST_CASE("ws frame: message size limit across fragments") {
  const std::string wire = Bytes({0x02, 0x06, 'a', 'b', 'c', 'd', 'e', 'f'}) +
                           Bytes({0x80, 0x06, 'g', 'h', 'i', 'j', 'k', 'l'});
  MessageDecoder d(Role::kClient, 10);
  std::vector<Message> out;
  Status s = d.Feed(wire, &out);
  CHECK(!s.ok());
  CHECK(d.error_close_code() == 1009);
  CHECK(out.empty());
}

TEST_CASE("ws frame: truncated input waits, emits nothing") {
  const std::string full = Bytes({0x82, 0x7E, 0x01, 0x00}) + std::string(256, 'z');
  for (size_t cut : {1u, 3u, 4u, 200u}) {
    MessageDecoder d(Role::kClient);
    std::vector<Message> out;
    CHECK(d.Feed(full.substr(0, cut), &out).ok());
    CHECK(out.empty());
    CHECK(!d.failed());
  }
}

TEST_CASE("ws frame: frame layer reports fin, opcode and mask") {
  FrameDecoder d(Role::kServer);
  std::vector<Frame> frames;
  REQUIRE(d.Feed(EncodeFrame(Opcode::kText, "Hel", false, kRfcMask), &frames).ok());
  REQUIRE(frames.size() == 1);
  CHECK(!frames[0].fin);
  CHECK(frames[0].masked);
  CHECK(frames[0].opcode == Opcode::kText);
  CHECK(frames[0].payload == "Hel");
}

}  // namespace kproxy::test::ws
