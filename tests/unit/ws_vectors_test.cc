// Real kubectl 1.33 WebSocket v5 sessions (../shared/vectors) decoded with the test frame
// decoder + the channel codec, fed whole, byte by byte and in seeded random splits. The expected
// messages below were read off the transcripts by hand, not produced by our encoder.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/websocket/channel_codec.h"
#include "tests/support/test_env.h"
#include "tests/support/transcript.h"
#include "tests/support/ws_frame.h"

namespace kproxy::test {
namespace {

struct Expected {
  enum class Kind { kData, kCloseSignal, kClose } kind;
  uint8_t channel = 0;
  std::string payload;  // data payload; for kClose empty
};

std::vector<Expected> Decode(const std::vector<std::string>& parts, ws::Role reader,
                             kproxy::ws::ChannelRole channel_role) {
  ws::MessageDecoder dec(reader);
  std::vector<ws::Message> messages;
  for (const auto& p : parts) REQUIRE(dec.Feed(p, &messages).ok());
  std::vector<Expected> out;
  for (const auto& m : messages) {
    if (m.kind == ws::Message::Kind::kClose) {
      REQUIRE(m.close_code.has_value());
      CHECK(*m.close_code == 1000);
      out.push_back({Expected::Kind::kClose, 0, ""});
      continue;
    }
    REQUIRE(m.kind == ws::Message::Kind::kBinary);
    auto cm =
        kproxy::ws::DecodeMessage(kproxy::ws::ChannelProtocol::kV5, channel_role, m.payload, false);
    REQUIRE(cm.ok());
    out.push_back({cm->kind == kproxy::ws::ChannelMessage::Kind::kCloseSignal
                       ? Expected::Kind::kCloseSignal
                       : Expected::Kind::kData,
                   cm->channel, cm->payload});
  }
  return out;
}

void CheckTranscript(const std::string& name, const std::vector<Expected>& client,
                     const std::vector<Expected>& server) {
  Transcript t = LoadTranscript(VectorsDir() / (name + ".transcript"));
  const std::string c = t.ClientBytes(), s = t.ServerBytes();
  // The recorded socket reads/writes as well as synthetic splits.
  std::vector<std::string> c_records, s_records;
  for (const auto& r : t.records) (r.direction == 'C' ? c_records : s_records).push_back(r.bytes);
  std::vector<std::vector<std::string>> c_splits = {c_records, SplitWhole(c), SplitBytewise(c)};
  std::vector<std::vector<std::string>> s_splits = {s_records, SplitWhole(s), SplitBytewise(s)};
  for (uint32_t seed : {3u, 17u, 2024u}) {
    c_splits.push_back(SplitRandom(c, seed));
    s_splits.push_back(SplitRandom(s, seed));
  }
  for (const auto& parts : c_splits) {
    // The server decodes client frames: they must be masked.
    auto got = Decode(parts, ws::Role::kServer, kproxy::ws::ChannelRole::kServer);
    REQUIRE(got.size() == client.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CAPTURE(i);
      CHECK(static_cast<int>(got[i].kind) == static_cast<int>(client[i].kind));
      CHECK(got[i].channel == client[i].channel);
      CHECK(got[i].payload == client[i].payload);
    }
  }
  for (const auto& parts : s_splits) {
    auto got = Decode(parts, ws::Role::kClient, kproxy::ws::ChannelRole::kClient);
    REQUIRE(got.size() == server.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CAPTURE(i);
      CHECK(static_cast<int>(got[i].kind) == static_cast<int>(server[i].kind));
      CHECK(got[i].channel == server[i].channel);
      CHECK(got[i].payload == server[i].payload);
    }
  }
}

using K = Expected::Kind;

std::string FailureStatus(int code) {
  return "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with non-zero "
         "exit code: exit status " +
         std::to_string(code) +
         "\",\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":[{\"reason\":\"ExitCode\","
         "\"message\":\"" +
         std::to_string(code) + "\"}]}}";
}

}  // namespace

TEST_CASE("ws vectors: v5 exec with stdin, stdin close signal, exit 7") {
  CheckTranscript(
      "ws-v5-exec-stdin-exit7.kubectl-1.33",
      {{K::kData, 0, "hello from stdin\n"}, {K::kCloseSignal, 0, ""}, {K::kClose, 0, ""}},
      {{K::kData, 1, "hello from stdin\n"},
       {K::kData, 2, "to-err\n"},
       {K::kData, 3, FailureStatus(7)},
       {K::kClose, 0, ""}});
}

TEST_CASE("ws vectors: v5 exec success") {
  CheckTranscript("ws-v5-exec-success.kubectl-1.33", {{K::kClose, 0, ""}},
                  {{K::kData, 1, "ok\n"},
                   {K::kData, 3, "{\"metadata\":{},\"status\":\"Success\"}"},
                   {K::kClose, 0, ""}});
}

TEST_CASE("ws vectors: v5 exec tty with resize, exit 5") {
  CheckTranscript("ws-v5-exec-tty-resize-exit5.kubectl-1.33",
                  {{K::kData, 4, "{\"Width\":80,\"Height\":24}\n"},
                   {K::kData, 0, "stty size\r"},
                   {K::kData, 4, "{\"Width\":120,\"Height\":40}\n"},
                   {K::kData, 0, "stty size\r"},
                   {K::kData, 0, "exit 5\r"},
                   {K::kClose, 0, ""}},
                  {{K::kData, 1, "# "},
                   {K::kData, 1, "stty size\r\n"},
                   {K::kData, 1, "24 80\r\n# "},
                   {K::kData, 1, "stty size\r\n"},
                   {K::kData, 1, "40 120\r\n"},
                   {K::kData, 1, "# "},
                   {K::kData, 1, "exit 5\r\n"},
                   {K::kData, 3, FailureStatus(5)},
                   {K::kClose, 0, ""}});
}

TEST_CASE("ws vectors: our client encoding of the resize matches kubectl's bytes") {
  // kubectl's resize message payload as recorded (channel byte stripped by the decoder).
  CHECK(kproxy::ws::ResizePayload(80, 24) == "{\"Width\":80,\"Height\":24}\n");
  CHECK(kproxy::ws::ResizePayload(120, 40) == "{\"Width\":120,\"Height\":40}\n");
  auto close = kproxy::ws::EncodeCloseSignal(kproxy::ws::ChannelProtocol::kV5, 0);
  REQUIRE(close.ok());
  CHECK(close->data == std::string("\xFF\x00", 2));
}

}  // namespace kproxy::test
