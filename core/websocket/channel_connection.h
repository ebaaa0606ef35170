// ChannelConnection: the StreamConnection interface over Kubernetes WebSocket channel messages
// (remotecommand v1..v5 see "streams"; this maps them to channel bytes). No I/O: messages to
// send are queued for the owner (TakeMessages) or handed to a sink callback; received messages
// come in through Receive().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/stream/stream_connection.h"
#include "core/websocket/channel_codec.h"

namespace kproxy::ws {

// streamtype header value → remotecommand channel (stdin 0 … resize 4); nullopt if unknown.
std::optional<uint8_t> ChannelForStreamType(std::string_view type);
// channel → streamtype ("" for channels without one).
const char* StreamTypeForChannel(uint8_t channel);

class ChannelConnection : public StreamConnection {
 public:
  ChannelConnection(ChannelProtocol protocol, ChannelRole role);

  // StreamConnection. StreamIds are channel numbers. OpenStream with an unknown or already
  // open streamtype calls on_reply with an error and returns kInvalidStream.
  static constexpr StreamId kInvalidStream = 0xFFFFFFFFu;
  StreamId OpenStream(const StreamHeaders& headers, StreamHandler* handler,
                      std::function<void(Status)> on_reply) override;
  void SetAcceptHandler(AcceptFn accept) override { accept_ = std::move(accept); }
  bool Write(StreamId id, std::string_view bytes) override;
  bool CloseWrite(StreamId id) override;
  void Reset(StreamId id) override;
  bool SupportsHalfClose() const override { return SupportsCloseSignal(protocol_); }
  size_t BufferedBytes() const override { return buffered_; }

  // Server role: sends the 1-byte marker on the lowest channel opened by this side (kubelet
  // writes it right after the 101). No-op if no stream is open.
  void SendInitialMarker();

  // Moves the queued outgoing messages out (resets BufferedBytes to 0).
  std::vector<OutMessage> TakeMessages();
  // When set, each outgoing message goes straight to `sink` instead of the queue.
  void SetMessageSink(std::function<void(OutMessage)> sink) { sink_ = std::move(sink); }

  // Consumes one received WebSocket message: routes data to the stream's handler, a close
  // signal to OnRemoteClose; server role accepts streams on first sight. Returns a kProtocol
  // error (sticky: later calls fail too) on a malformed message.
  Status Receive(std::string_view message, bool is_text);
  // The WebSocket closed normally (close 1000): every open stream gets OnRemoteClose.
  void OnConnectionClosed();
  // The connection was lost: every open stream gets OnReset(reason); streams are dropped.
  void OnConnectionLost(std::string_view reason);

  ChannelProtocol protocol() const { return protocol_; }

 private:
  struct Stream {
    StreamHandler* handler = nullptr;  // nullptr: refused by the accept handler, data dropped
    bool local = false;                // opened by this side with OpenStream
    bool write_closed = false;
    bool remote_closed = false;
  };
  void Emit(OutMessage m);

  ChannelProtocol protocol_;
  ChannelRole role_;
  AcceptFn accept_;
  std::map<uint8_t, Stream> streams_;
  std::function<void(OutMessage)> sink_;
  std::vector<OutMessage> queue_;
  size_t buffered_ = 0;
  std::optional<Error> failed_;
  std::string scratch_;  // decoded base64 payload of the message being delivered
};

}  // namespace kproxy::ws
