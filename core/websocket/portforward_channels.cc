#include "core/websocket/portforward_channels.h"

#include <algorithm>
#include <utility>

namespace kproxy::ws {

std::string EncodePortPrefix(uint16_t port) {
  return std::string{static_cast<char>(port & 0xFF), static_cast<char>(port >> 8)};
}

PortForwardChannelDecoder::PortForwardChannelDecoder(std::vector<uint16_t> ports)
    : ports_(std::move(ports)), channels_(ports_.size() * 2) {}

Status PortForwardChannelDecoder::Feed(uint8_t channel, std::string_view payload,
                                       std::vector<PortForwardEvent>* out) {
  if (failed_) return *failed_;
  if (channel >= channels_.size()) {
    failed_ = MakeError(ErrorCode::kProtocol,
                        "port-forward data on unknown channel " + std::to_string(channel));
    return *failed_;
  }
  ChannelState& st = channels_[channel];
  const size_t index = channel / 2;
  if (!st.prefix_done) {
    const size_t take = std::min(payload.size(), 2 - st.prefix.size());
    st.prefix.append(payload.substr(0, take));
    payload.remove_prefix(take);
    if (st.prefix.size() < 2) return Status::Ok();
    const uint16_t port = static_cast<uint16_t>(static_cast<uint8_t>(st.prefix[0]) |
                                                (static_cast<uint8_t>(st.prefix[1]) << 8));
    if (port != ports_[index]) {
      failed_ = MakeError(ErrorCode::kProtocol, "port-forward channel " + std::to_string(channel) +
                                                    " announced port " + std::to_string(port) +
                                                    ", expected " + std::to_string(ports_[index]));
      return *failed_;
    }
    st.prefix_done = true;
  }
  if (!payload.empty())
    out->push_back(PortForwardEvent{index, channel % 2 == 1, std::string(payload)});
  return Status::Ok();
}

}  // namespace kproxy::ws
