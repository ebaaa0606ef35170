// Fuzzes what the simulator's streaming side parses from untrusted clients: the resize
// stream's JSON, WebSocket channel messages (v5 and base64), SPDY sessions in the server role,
// and the SPDY-in-WebSocket tunnel. The input is split at a fuzzer-chosen point to exercise
// partial input. Nothing may crash, hang or grow without bound.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/sim/streaming/exec_session.h"
#include "tests/sim/streaming/server_transport.h"

namespace {

class Sink : public kproxy::StreamHandler {
 public:
  void OnData(std::string_view) override {}
  void OnRemoteClose() override {}
  void OnReset(std::string_view) override {}
};

template <typename T>
void Feed(T& t, std::string_view a, std::string_view b) {
  static Sink sink;
  t.streams()->SetAcceptHandler(
      [](kproxy::StreamId, const kproxy::StreamHeaders&) { return &sink; });
  if (t.Receive(a).ok()) (void)t.Receive(b);
  (void)t.TakeOutput();
  t.End();
  (void)t.TakeOutput();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t split = size > 1 ? data[0] % (in.size() + 1) : 0;
  std::string_view a = in.substr(0, split), b = in.substr(split);

  std::string buffer;
  (void)kproxy::sim::streaming::ParseResizeEvents(&buffer, a);
  (void)kproxy::sim::streaming::ParseResizeEvents(&buffer, b);

  kproxy::sim::streaming::WsChannelTransport v5(kproxy::ws::ChannelProtocol::kV5);
  Feed(v5, a, b);
  kproxy::sim::streaming::WsChannelTransport b64(kproxy::ws::ChannelProtocol::kBase64);
  Feed(b64, a, b);
  kproxy::sim::streaming::SpdyTransport spdy;
  Feed(spdy, a, b);
  kproxy::sim::streaming::WsTunnelTransport tunnel;
  Feed(tunnel, a, b);
  return 0;
}
