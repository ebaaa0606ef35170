// libFuzzer target: arbitrary bytes into the SPDY frame decoder (whole and in two pieces)
// and into client and server sessions. Nothing may crash, hang or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/spdy/spdy_frame.h"
#include "core/spdy/spdy_session.h"

namespace {

struct Sink : kproxy::StreamHandler {
  kproxy::spdy::SpdySession* session = nullptr;
  kproxy::StreamId id = 0;
  size_t bytes = 0;
  void OnData(std::string_view data) override {
    bytes += data.size();
    // Exercise re-entrant calls from a handler.
    if (session && id && (data.size() & 1)) session->Write(id, data.substr(0, 8));
    if (session && id && data.size() == 3) session->Reset(id);
  }
  void OnRemoteClose() override {}
  void OnReset(std::string_view) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  kproxy::spdy::DecoderLimits limits;
  limits.max_frame_payload = 64 * 1024;
  limits.headers.max_block = 64 * 1024;

  {
    kproxy::spdy::FrameDecoder d(limits);
    size_t frames = 0;
    (void)d.Feed(in, [&](kproxy::spdy::Frame&&) { ++frames; });
  }
  {
    kproxy::spdy::FrameDecoder d(limits);
    size_t cut = size ? data[0] % (size + 1) : 0;
    auto ignore = [](kproxy::spdy::Frame&&) {};
    if (d.Feed(in.substr(0, cut), ignore).ok()) (void)d.Feed(in.substr(cut), ignore);
  }
  {
    // Streamed DATA must carry exactly the bytes the whole-frame path gives.
    kproxy::spdy::FrameDecoder whole(limits), streamed(limits);
    std::string a, b;
    size_t fa = 0, fb = 0;
    kproxy::Status sa = whole.Feed(in, [&](kproxy::spdy::Frame&& f) {
      ++fa;
      if (f.type == kproxy::spdy::FrameType::kData) a += f.data;
    });
    kproxy::Status sb;
    size_t cut = size ? data[size - 1] % (size + 1) : 0;
    for (std::string_view part : {in.substr(0, cut), in.substr(cut)}) {
      sb = streamed.Feed(
          part, [&](kproxy::spdy::Frame&&) { ++fb; },
          [&](const kproxy::spdy::DataPiece& p) {
            b.append(p.bytes);
            if (p.last) ++fb;
          });
      if (!sb.ok()) break;
    }
    // The streamed side may deliver a partial payload of a frame the whole side still holds.
    if (sa.ok() != sb.ok() || fa != fb || b.compare(0, a.size(), a) != 0) __builtin_trap();
  }
  for (auto role : {kproxy::spdy::Role::kClient, kproxy::spdy::Role::kServer}) {
    kproxy::spdy::SpdySession s(role, limits);
    s.SetStreamedData(role == kproxy::spdy::Role::kClient);  // both delivery modes
    Sink sinks[4];
    int next = 0;
    s.SetAcceptHandler(
        [&](kproxy::StreamId id, const kproxy::StreamHeaders&) -> kproxy::StreamHandler* {
          if (next >= 4) return nullptr;
          Sink* k = &sinks[next++];
          k->session = &s;
          k->id = id;
          return k;
        });
    if (role == kproxy::spdy::Role::kClient) {
      kproxy::StreamHeaders h;
      h.Set("streamtype", "error");
      s.OpenStream(h, &sinks[3], nullptr);
      s.SendPing();
    }
    // Feed in small chunks, as sockets do.
    for (size_t pos = 0; pos < size; pos += 7) {
      if (!s.Receive(in.substr(pos, 7)).ok()) break;
      (void)s.TakeOutput();
    }
    s.EndSession();
    (void)s.TakeOutput();
  }
  return 0;
}
