// SPDY codec throughput: DATA frame encode/decode in MB/s and header block (SYN_STREAM with
// one compressed NV block) encode/decode in ops/s. Each measurement runs ~0.5 s.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "core/spdy/spdy_frame.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

constexpr double kBudget = 0.5;

}  // namespace

int main() {
  using kproxy::spdy::Frame;
  using kproxy::spdy::FrameDecoder;
  using kproxy::spdy::FrameEncoder;

  const std::string payload(32 * 1024, 'x');  // io.Copy's buffer size
  {
    size_t bytes = 0;
    auto start = Clock::now();
    std::string sink;
    while (Seconds(start) < kBudget) {
      for (int i = 0; i < 256; ++i) {
        sink = FrameEncoder::Data(1, payload);
        bytes += payload.size();
      }
    }
    std::printf("DATA encode (32 KiB frames): %8.1f MB/s\n", bytes / Seconds(start) / 1e6);
  }
  {
    std::string wire;
    for (int i = 0; i < 64; ++i) wire += FrameEncoder::Data(1, payload);
    size_t bytes = 0;
    auto start = Clock::now();
    while (Seconds(start) < kBudget) {
      FrameDecoder d;
      (void)d.Feed(wire, [&](Frame&& f) { bytes += f.data.size(); });
    }
    std::printf("DATA decode (32 KiB frames): %8.1f MB/s\n", bytes / Seconds(start) / 1e6);
    bytes = 0;
    start = Clock::now();
    while (Seconds(start) < kBudget) {
      FrameDecoder d;
      for (size_t pos = 0; pos < wire.size(); pos += 1460)  // MSS-sized reads
        (void)d.Feed(std::string_view(wire).substr(pos, 1460),
                     [&](Frame&& f) { bytes += f.data.size(); });
    }
    std::printf("DATA decode (1460 B reads):  %8.1f MB/s\n", bytes / Seconds(start) / 1e6);
  }
  kproxy::StreamHeaders headers;
  headers.Set("streamtype", "data");
  headers.Set("port", "8080");
  headers.Set("requestid", "12345");
  {
    FrameEncoder enc;
    size_t ops = 0;
    auto start = Clock::now();
    while (Seconds(start) < kBudget) {
      for (int i = 0; i < 1000; ++i)
        (void)enc.SynStream(static_cast<uint32_t>(2 * ops + 1), headers);
      ops += 1000;
    }
    std::printf("header block encode:         %8.0f ops/s\n", ops / Seconds(start));
  }
  {
    // One encoder context produces the blocks one decoder context consumes, in order.
    FrameEncoder enc;
    std::vector<std::string> frames;
    for (int i = 0; i < 20000; ++i) frames.push_back(*enc.SynStream(2 * i + 1, headers));
    size_t ops = 0;
    auto start = Clock::now();
    while (Seconds(start) < kBudget) {
      FrameDecoder d;
      for (const auto& f : frames) (void)d.Feed(f, [&](Frame&&) { ++ops; });
    }
    std::printf("header block decode:         %8.0f ops/s\n", ops / Seconds(start));
  }
  return 0;
}
