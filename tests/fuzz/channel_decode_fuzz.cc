// Fuzz target: Kubernetes channel message decoder (all protocols, both roles) and the
// ChannelConnection receive path.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/websocket/channel_codec.h"
#include "core/websocket/channel_connection.h"
#include "core/websocket/portforward_channels.h"

namespace {
class Sink : public kproxy::StreamHandler {
 public:
  void OnData(std::string_view) override {}
  void OnRemoteClose() override {}
  void OnReset(std::string_view) override {}
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kproxy::ws;
  if (size < 1) return 0;
  const auto proto = static_cast<ChannelProtocol>(data[0] % 5);
  const auto role = (data[0] & 0x8) ? ChannelRole::kServer : ChannelRole::kClient;
  const bool is_text = (data[0] & 0x10) != 0;
  std::string_view msg(reinterpret_cast<const char*>(data + 1), size - 1);
  auto d = DecodeMessage(proto, role, msg, is_text);
  if (d.ok() && d->payload.size() > msg.size()) __builtin_trap();
  // The copy-free decoder must agree with the copying one on every input.
  std::string scratch;
  auto v = DecodeMessageView(proto, role, msg, is_text, &scratch);
  if (v.ok() != d.ok()) __builtin_trap();
  if (v.ok() && (v->kind != d->kind || v->channel != d->channel || v->payload != d->payload))
    __builtin_trap();

  Sink sink;
  ChannelConnection conn(proto, role);
  conn.SetAcceptHandler([&](kproxy::StreamId, const kproxy::StreamHeaders&) { return &sink; });
  kproxy::StreamHeaders h;
  h.Set("streamtype", "stdout");
  conn.OpenStream(h, &sink, nullptr);
  // Treat the input as a sequence of length-prefixed messages.
  while (!msg.empty()) {
    const size_t n = std::min<size_t>(static_cast<uint8_t>(msg[0]), msg.size() - 1);
    (void)conn.Receive(msg.substr(1, n), is_text);
    msg.remove_prefix(1 + n);
  }
  PortForwardChannelDecoder pf({8080, 9090});
  std::vector<PortForwardEvent> ev;
  if (d.ok()) (void)pf.Feed(d->channel, d->payload, &ev);
  return 0;
}
