// The SPDY/3.1 vectors (real kubectl 1.28 client bytes, spdy-transport server bytes) decoded
// by FrameDecoder: every frame, every header block, every payload, fed whole, byte by byte and
// in random splits, each direction with its own inflate context.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "core/spdy/spdy_frame.h"
#include "tests/support/spdy_builder.h"
#include "tests/support/test_env.h"
#include "tests/support/transcript.h"

namespace kproxy::spdy {
namespace {

struct Decoded {
  std::vector<Frame> frames;
  Status status;
  bool at_boundary = false;
};

Decoded DecodeAll(const std::vector<std::string>& pieces) {
  Decoded out;
  FrameDecoder decoder;
  for (const auto& piece : pieces) {
    out.status = decoder.Feed(piece, [&](Frame&& f) { out.frames.push_back(std::move(f)); });
    if (!out.status.ok()) break;
  }
  out.at_boundary = decoder.AtFrameBoundary();
  return out;
}

// One line per frame: type, stream id, flags, and the header pairs or the payload length.
std::vector<std::string> Summary(const std::vector<Frame>& frames) {
  std::vector<std::string> lines;
  for (const auto& f : frames) {
    std::string s = std::string(FrameTypeName(f.type)) + " " + std::to_string(f.stream_id) + " f" +
                    std::to_string(f.flags);
    switch (f.type) {
      case FrameType::kSynStream:
      case FrameType::kSynReply:
      case FrameType::kHeaders:
        for (const auto& [k, v] : f.headers.pairs) s += " " + k + "=" + v;
        break;
      case FrameType::kData:
        s += " len=" + std::to_string(f.data.size());
        break;
      case FrameType::kRstStream:
        s += " status=" + std::to_string(f.status);
        break;
      case FrameType::kSettings:
        for (const auto& st : f.settings)
          s += " " + std::to_string(st.flags) + ":" + std::to_string(st.id) + "=" +
               std::to_string(st.value);
        break;
      case FrameType::kWindowUpdate:
        s += " delta=" + std::to_string(f.delta);
        break;
      case FrameType::kPing:
        s += " id=" + std::to_string(f.ping_id);
        break;
      case FrameType::kGoAway:
        s += " last=" + std::to_string(f.last_good_stream_id) +
             " status=" + std::to_string(f.status);
        break;
    }
    lines.push_back(s);
  }
  return lines;
}

std::map<uint32_t, std::string> Payloads(const std::vector<Frame>& frames) {
  std::map<uint32_t, std::string> out;
  for (const auto& f : frames)
    if (f.type == FrameType::kData) out[f.stream_id] += f.data;
  return out;
}

std::vector<std::vector<std::string>> Splits(const std::string& bytes) {
  std::vector<std::vector<std::string>> all = {test::SplitWhole(bytes), test::SplitBytewise(bytes)};
  for (uint32_t seed : {1u, 2u, 3u, 42u, 1234u}) all.push_back(test::SplitRandom(bytes, seed));
  return all;
}

test::Transcript Load(const char* name) {
  return test::LoadTranscript(test::VectorsDir() / (std::string(name) + ".transcript"));
}

std::string StatusJson(int code) {
  return R"({"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: exit status )" +
         std::to_string(code) +
         R"(","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":")" +
         std::to_string(code) + R"("}]}})";
}

// spdy-transport opens with SETTINGS(initial window 1 MiB, persisted) and a session-level
// WINDOW_UPDATE; spdystream ignores both, and so does our session.
const std::vector<std::string> kServerPreamble = {"SETTINGS 0 f0 1:7=1048576",
                                                  "WINDOW_UPDATE 0 f0 delta=983040"};
const char* kReply = " f0 :status=200 OK :version=HTTP/1.1";

}  // namespace

TEST_CASE("spdy vectors: exec with stdin, exit 7") {
  test::Transcript t = Load("spdy-exec-stdin-exit7.kubectl-1.28");
  const std::vector<std::string> client = {"SYN_STREAM 1 f0 streamtype=error",
                                           "SYN_STREAM 3 f0 streamtype=stdin",
                                           "SYN_STREAM 5 f0 streamtype=stdout",
                                           "SYN_STREAM 7 f0 streamtype=stderr",
                                           "DATA 3 f0 len=17",
                                           "DATA 3 f1 len=0",
                                           "RST_STREAM 5 f0 status=5",
                                           "RST_STREAM 7 f0 status=5"};
  std::vector<std::string> server = kServerPreamble;
  for (int id : {1, 3, 5, 7}) server.push_back("SYN_REPLY " + std::to_string(id) + kReply);
  for (const char* s : {"DATA 5 f0 len=17", "DATA 7 f0 len=7", "DATA 1 f0 len=190",
                        "DATA 3 f1 len=0", "DATA 5 f1 len=0", "DATA 7 f1 len=0", "DATA 1 f1 len=0",
                        "RST_STREAM 5 f0 status=5", "RST_STREAM 7 f0 status=5"})
    server.push_back(s);
  for (const auto& pieces : Splits(t.ClientBytes())) {
    Decoded d = DecodeAll(pieces);
    REQUIRE(d.status.ok());
    CHECK(d.at_boundary);
    CHECK(Summary(d.frames) == client);
    auto p = Payloads(d.frames);
    CHECK(p[3] == "hello from stdin\n");
    CHECK(p.count(1) == 0);
    CHECK(d.frames[0].priority == 0);
    CHECK(d.frames[0].assoc_id == 0);
  }
  for (const auto& pieces : Splits(t.ServerBytes())) {
    Decoded d = DecodeAll(pieces);
    REQUIRE(d.status.ok());
    CHECK(d.at_boundary);
    CHECK(Summary(d.frames) == server);
    auto p = Payloads(d.frames);
    CHECK(p[5] == "hello from stdin\n");
    CHECK(p[7] == "to-err\n");
    CHECK(p[1] == StatusJson(7));
  }
}

TEST_CASE("spdy vectors: exec with tty and resize, exit 5") {
  test::Transcript t = Load("spdy-exec-tty-resize-exit5.kubectl-1.28");
  const std::vector<std::string> client = {"SYN_STREAM 1 f0 streamtype=error",
                                           "SYN_STREAM 3 f0 streamtype=stdin",
                                           "SYN_STREAM 5 f0 streamtype=stdout",
                                           "SYN_STREAM 7 f0 streamtype=resize",
                                           "DATA 7 f0 len=25",
                                           "DATA 3 f0 len=10",
                                           "DATA 7 f0 len=26",
                                           "DATA 3 f0 len=10",
                                           "DATA 3 f0 len=7",
                                           "DATA 3 f1 len=0",
                                           "RST_STREAM 5 f0 status=5",
                                           "RST_STREAM 7 f0 status=5",
                                           "RST_STREAM 1 f0 status=5"};
  for (const auto& pieces : Splits(t.ClientBytes())) {
    Decoded d = DecodeAll(pieces);
    REQUIRE(d.status.ok());
    CHECK(Summary(d.frames) == client);
    // kubectl's last write was cut off by the connection close: 4 bytes of a frame header
    // stay buffered, which is not an error.
    CHECK_FALSE(d.at_boundary);
    auto p = Payloads(d.frames);
    CHECK(p[7] == "{\"Width\":80,\"Height\":24}\n{\"Width\":120,\"Height\":40}\n");
    CHECK(p[3] == "stty size\rstty size\rexit 5\r");
  }
  std::vector<std::string> server = kServerPreamble;
  for (int id : {1, 3, 5, 7}) server.push_back("SYN_REPLY " + std::to_string(id) + kReply);
  for (const char* s : {"DATA 5 f0 len=2", "DATA 5 f0 len=11", "DATA 5 f0 len=7", "DATA 5 f0 len=2",
                        "DATA 5 f0 len=11", "DATA 5 f0 len=8", "DATA 5 f0 len=2", "DATA 5 f0 len=8",
                        "DATA 1 f0 len=190", "DATA 3 f1 len=0", "DATA 5 f1 len=0",
                        "DATA 7 f1 len=0", "DATA 1 f1 len=0", "RST_STREAM 5 f0 status=5",
                        "RST_STREAM 7 f0 status=5", "RST_STREAM 1 f0 status=5"})
    server.push_back(s);
  for (const auto& pieces : Splits(t.ServerBytes())) {
    Decoded d = DecodeAll(pieces);
    REQUIRE(d.status.ok());
    CHECK(d.at_boundary);
    CHECK(Summary(d.frames) == server);
    auto p = Payloads(d.frames);
    CHECK(p[5] == "# stty size\r\n24 80\r\n# stty size\r\n40 120\r\n# exit 5\r\n");
    CHECK(p[1] == StatusJson(5));
  }
}

TEST_CASE("spdy vectors: port-forward HTTP GET") {
  test::Transcript t = Load("spdy-portforward-http-get.kubectl-1.28");
  const std::vector<std::string> client = {
      "SYN_STREAM 1 f0 requestid=0 streamtype=error port=18099", "DATA 1 f1 len=0",
      "SYN_STREAM 3 f0 streamtype=data port=18099 requestid=0", "DATA 3 f0 len=79",
      "DATA 3 f1 len=0"};
  for (const auto& pieces : Splits(t.ClientBytes())) {
    Decoded d = DecodeAll(pieces);
    REQUIRE(d.status.ok());
    CHECK(d.at_boundary);
    CHECK(Summary(d.frames) == client);
    auto p = Payloads(d.frames);
    CHECK(p[3] ==
          "GET / HTTP/1.1\r\nHost: 127.0.0.1:18199\r\nUser-Agent: curl/7.88.1\r\nAccept: "
          "*/*\r\n\r\n");
    CHECK(d.frames[0].headers.Get("port") == "18099");
    CHECK(d.frames[2].headers.Get("requestid") == "0");
  }
  std::vector<std::string> server = kServerPreamble;
  for (const char* s : {"SYN_REPLY 1", "SYN_REPLY 3"}) server.push_back(std::string(s) + kReply);
  server.push_back("DATA 3 f0 len=500");
  server.push_back("DATA 3 f1 len=0");
  for (const auto& pieces : Splits(t.ServerBytes())) {
    Decoded d = DecodeAll(pieces);
    REQUIRE(d.status.ok());
    CHECK(d.at_boundary);
    CHECK(Summary(d.frames) == server);
    auto p = Payloads(d.frames);
    CHECK(p[3].rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
    CHECK(p[3].find("Content-Length: 345\r\n\r\n") != std::string::npos);
    CHECK(p[3].size() - p[3].find("\r\n\r\n") - 4 == 345);
  }
}

TEST_CASE("spdy vectors: a decoder restarting zlib per frame fails on the second block") {
  // Pull the compressed header blocks out of the client stream with the builder's view of
  // the framing (no production code), then inflate each with a fresh context.
  test::Transcript t = Load("spdy-exec-stdin-exit7.kubectl-1.28");
  std::string bytes = t.ClientBytes();
  std::vector<std::string> blocks;
  size_t pos = 0;
  while (pos + 8 <= bytes.size()) {
    auto u8 = [&](size_t i) { return static_cast<uint8_t>(bytes[pos + i]); };
    uint32_t len = (u8(5) << 16) | (u8(6) << 8) | u8(7);
    if ((u8(0) & 0x80) && u8(3) == 1) blocks.push_back(bytes.substr(pos + 8 + 10, len - 10));
    pos += 8 + len;
  }
  REQUIRE(blocks.size() == 4);
  // One context for the whole connection: every block inflates.
  test::spdyb::Inflater shared;
  for (const auto& blk : blocks) {
    bool ok = false;
    shared.Inflate(blk, &ok);
    CHECK(ok);
  }
  // A context per frame: the first block works, the second cannot (it refers back into the
  // first block's window and carries no zlib header).
  {
    test::spdyb::Inflater first;
    bool ok = false;
    first.Inflate(blocks[0], &ok);
    CHECK(ok);
  }
  for (size_t i = 1; i < blocks.size(); ++i) {
    HeaderDecompressor fresh;
    CHECK_FALSE(fresh.DecompressHeaders(blocks[i]).ok());
  }
  HeaderDecompressor one;
  for (const auto& blk : blocks) CHECK(one.DecompressHeaders(blk).ok());
}

}  // namespace kproxy::spdy
