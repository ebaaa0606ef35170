// Throughput of the WebSocket frame codec (test support) and the Kubernetes channel codec.
// Bounded: a fixed amount of data per case, a few hundred MB in total at most.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "core/websocket/channel_codec.h"
#include "tests/support/ws_frame.h"

namespace {

using Clock = std::chrono::steady_clock;

void Report(const char* name, size_t bytes, Clock::time_point start) {
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%-44s %8.1f MiB/s  (%zu MiB in %.3f s)\n", name, bytes / (1024.0 * 1024.0) / secs,
              bytes >> 20, secs);
}

}  // namespace

int main() {
  namespace tws = kproxy::test::ws;
  namespace kws = kproxy::ws;
  constexpr size_t kTotal = 64u << 20;  // 64 MiB per case
  const tws::MaskKey mask = {0x11, 0x22, 0x33, 0x44};
  size_t sink = 0;

  for (size_t msg_size : {size_t{128}, size_t{4096}, size_t{32767}}) {
    const std::string payload(msg_size, 'p');
    const size_t count = kTotal / msg_size;
    char name[64];

    // Encode masked client frames (the simulator's peer / test doubles).
    std::string wire;
    wire.reserve(count * (msg_size + 14));
    auto t0 = Clock::now();
    for (size_t i = 0; i < count; ++i)
      wire += tws::EncodeFrame(tws::Opcode::kBinary, payload, true, mask);
    std::snprintf(name, sizeof name, "frame encode masked, %zu B", msg_size);
    Report(name, count * msg_size, t0);

    // Decode them in 16 KiB reads, as a socket would deliver them.
    tws::MessageDecoder dec(tws::Role::kServer);
    std::vector<tws::Message> out;
    t0 = Clock::now();
    for (size_t off = 0; off < wire.size(); off += 16384) {
      out.clear();
      if (!dec.Feed(std::string_view(wire).substr(off, 16384), &out).ok()) return 1;
      for (auto& m : out) sink += m.payload.size();
    }
    std::snprintf(name, sizeof name, "frame decode masked (16 KiB reads), %zu B", msg_size);
    Report(name, count * msg_size, t0);

    // Channel layer: encode + decode binary v5 messages.
    t0 = Clock::now();
    for (size_t i = 0; i < count; ++i) {
      auto msgs = kws::EncodeData(kws::ChannelProtocol::kV5, 1, payload);
      for (auto& m : msgs) {
        auto d = kws::DecodeMessage(kws::ChannelProtocol::kV5, kws::ChannelRole::kClient, m.data,
                                    m.is_text);
        if (!d.ok()) return 1;
        sink += d->payload.size();
      }
    }
    std::snprintf(name, sizeof name, "channel v5 encode+decode, %zu B", msg_size);
    Report(name, count * msg_size, t0);

    // base64 variant (text frames): quarter of the volume, it is the slow legacy path.
    t0 = Clock::now();
    for (size_t i = 0; i < count / 4; ++i) {
      auto msgs = kws::EncodeData(kws::ChannelProtocol::kBase64, 1, payload);
      for (auto& m : msgs) {
        auto d = kws::DecodeMessage(kws::ChannelProtocol::kBase64, kws::ChannelRole::kClient,
                                    m.data, m.is_text);
        if (!d.ok()) return 1;
        sink += d->payload.size();
      }
    }
    std::snprintf(name, sizeof name, "channel base64 encode+decode, %zu B", msg_size);
    Report(name, count / 4 * msg_size, t0);
  }
  std::printf("(checksum %zu)\n", sink);
  return 0;
}
