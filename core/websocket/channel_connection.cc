#include "core/websocket/channel_connection.h"

#include <utility>

#include "core/websocket/channel_format.h"

namespace kproxy::ws {

std::optional<uint8_t> ChannelForStreamType(std::string_view type) {
  if (type == streamtype::kStdin) return kChannelStdin;
  if (type == streamtype::kStdout) return kChannelStdout;
  if (type == streamtype::kStderr) return kChannelStderr;
  if (type == streamtype::kError) return kChannelError;
  if (type == streamtype::kResize) return kChannelResize;
  return std::nullopt;
}

const char* StreamTypeForChannel(uint8_t channel) {
  switch (channel) {
    case kChannelStdin:
      return streamtype::kStdin;
    case kChannelStdout:
      return streamtype::kStdout;
    case kChannelStderr:
      return streamtype::kStderr;
    case kChannelError:
      return streamtype::kError;
    case kChannelResize:
      return streamtype::kResize;
    default:
      return "";
  }
}

ChannelConnection::ChannelConnection(ChannelProtocol protocol, ChannelRole role)
    : protocol_(protocol), role_(role) {}

StreamId ChannelConnection::OpenStream(const StreamHeaders& headers, StreamHandler* handler,
                                       std::function<void(Status)> on_reply) {
  const std::string type = headers.Get("streamtype");
  std::optional<uint8_t> channel = ChannelForStreamType(type);
  Status status;
  if (!channel) {
    status = MakeError(ErrorCode::kProtocol, "no channel for streamtype \"" + type + "\"");
  } else if (streams_.count(*channel)) {
    status = MakeError(ErrorCode::kProtocol, "stream \"" + type + "\" already open");
  }
  if (!status.ok()) {
    if (on_reply) on_reply(status);
    return kInvalidStream;
  }
  streams_[*channel] = Stream{handler, true, false, false};
  // Channels need no handshake: the stream exists as soon as either side uses the byte.
  if (on_reply) on_reply(Status::Ok());
  return *channel;
}

void ChannelConnection::Emit(OutMessage m) {
  if (sink_) {
    sink_(std::move(m));
    return;
  }
  buffered_ += m.data.size();
  queue_.push_back(std::move(m));
}

bool ChannelConnection::Write(StreamId id, std::string_view bytes) {
  auto it = streams_.find(static_cast<uint8_t>(id));
  if (id > 0xFF || it == streams_.end() || it->second.write_closed) return false;
  for (OutMessage& m : EncodeData(protocol_, static_cast<uint8_t>(id), bytes)) Emit(std::move(m));
  return true;
}

bool ChannelConnection::CloseWrite(StreamId id) {
  auto it = streams_.find(static_cast<uint8_t>(id));
  if (id > 0xFF || it == streams_.end() || it->second.write_closed) return false;
  Result<OutMessage> signal = EncodeCloseSignal(protocol_, static_cast<uint8_t>(id));
  if (!signal.ok()) return false;  // v1-v4: no half-close on the wire
  it->second.write_closed = true;
  Emit(std::move(*signal));
  return true;
}

void ChannelConnection::Reset(StreamId id) {
  // The channel protocols have no per-stream reset; forget the stream locally so that later
  // data on its channel is dropped rather than delivered to a dead handler.
  auto it = streams_.find(static_cast<uint8_t>(id));
  if (id > 0xFF || it == streams_.end()) return;
  it->second.handler = nullptr;
  it->second.write_closed = true;
}

void ChannelConnection::SendInitialMarker() {
  for (const auto& [channel, s] : streams_) {
    if (s.local && !s.write_closed) {
      Emit(EncodeMarker(protocol_, channel));
      return;
    }
  }
}

std::vector<OutMessage> ChannelConnection::TakeMessages() {
  buffered_ = 0;
  return std::exchange(queue_, {});
}

Status ChannelConnection::Receive(std::string_view message, bool is_text) {
  if (failed_) return *failed_;
  // A view: the payload reaches the handler straight from the WebSocket layer's buffer.
  Result<ChannelMessageView> decoded =
      DecodeMessageView(protocol_, role_, message, is_text, &scratch_);
  if (!decoded.ok()) {
    failed_ = decoded.error();
    return *failed_;
  }
  const ChannelMessageView& m = *decoded;
  if (m.kind == ChannelMessage::Kind::kEmpty) return Status::Ok();
  auto it = streams_.find(m.channel);
  if (it == streams_.end()) {
    if (role_ == ChannelRole::kClient) {
      // The server's initial marker may name a channel this client never opened: ignore
      // empty payloads, but reject data nobody asked for.
      if (m.payload.empty() || m.kind == ChannelMessage::Kind::kCloseSignal) return Status::Ok();
      failed_ =
          MakeError(ErrorCode::kProtocol, "data on unopened channel " + std::to_string(m.channel));
      return *failed_;
    }
    StreamHeaders headers;
    headers.Set("streamtype", StreamTypeForChannel(m.channel));
    StreamHandler* h = accept_ ? accept_(m.channel, headers) : nullptr;
    it = streams_.emplace(m.channel, Stream{h, false, h == nullptr, false}).first;
  }
  Stream& s = it->second;
  if (m.kind == ChannelMessage::Kind::kCloseSignal) {
    if (!s.remote_closed) {
      s.remote_closed = true;
      if (s.handler) s.handler->OnRemoteClose();
    }
    return Status::Ok();
  }
  // A message with only the channel byte is a no-op (the marker); never surface empty data.
  if (!m.payload.empty() && s.handler && !s.remote_closed) s.handler->OnData(m.payload);
  return Status::Ok();
}

void ChannelConnection::OnConnectionClosed() {
  for (auto& [channel, s] : streams_) {
    if (!s.remote_closed && s.handler) s.handler->OnRemoteClose();
    s.remote_closed = true;
  }
}

void ChannelConnection::OnConnectionLost(std::string_view reason) {
  auto streams = std::exchange(streams_, {});
  for (auto& [channel, s] : streams)
    if (s.handler) s.handler->OnReset(reason);
}

}  // namespace kproxy::ws
