// Legacy WebSocket port-forward (v4.channel.k8s.io with ?ports=P…, protocols.md §6): channel 2i
// carries data and 2i+1 errors for the i-th requested port, and the server's first bytes on each
// channel are that port as 2 bytes little-endian. No I/O; sits on ChannelMessage payloads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"

namespace kproxy::ws {

inline constexpr uint8_t PortForwardDataChannel(size_t port_index) {
  return static_cast<uint8_t>(2 * port_index);
}
inline constexpr uint8_t PortForwardErrorChannel(size_t port_index) {
  return static_cast<uint8_t>(2 * port_index + 1);
}

// The 2-byte little-endian port prefix the server writes first on both channels of a port.
std::string EncodePortPrefix(uint16_t port);

struct PortForwardEvent {
  size_t port_index = 0;
  bool is_error = false;  // error channel text (an error for that port)
  std::string data;
};

// Client side: strips and checks the port prefix on each channel (it may arrive split over
// messages), then turns channel payloads into per-port data / error events.
class PortForwardChannelDecoder {
 public:
  explicit PortForwardChannelDecoder(std::vector<uint16_t> ports);

  // Consumes one channel payload; appends 0 or 1 event. kProtocol error on an unknown channel
  // or a prefix naming another port (sticky).
  Status Feed(uint8_t channel, std::string_view payload, std::vector<PortForwardEvent>* out);

 private:
  struct ChannelState {
    std::string prefix;  // prefix bytes seen so far (< 2 until complete)
    bool prefix_done = false;
  };
  std::vector<uint16_t> ports_;
  std::vector<ChannelState> channels_;
  std::optional<Error> failed_;
};

}  // namespace kproxy::ws
