// The server end of an upgraded connection as a StreamConnection plus the wire framing around
// it, so the exec/attach and port-forward sessions never see which transport carries them:
//  - WebSocket channels (v5/v4/v1/base64): RFC 6455 frames ↔ ChannelConnection;
//  - SPDY/3.1: SpdySession in the server role;
//  - the WebSocket tunnel (SPDY/3.1+portforward.k8s.io): a SPDY session whose byte stream rides
//    in binary WebSocket messages, message boundaries meaning nothing.
// No I/O: bytes read from the socket go in through Receive(), bytes to write come out of
// TakeOutput().
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/base/result.h"
#include "core/spdy/spdy_session.h"
#include "core/stream/stream_connection.h"
#include "core/websocket/channel_codec.h"
#include "core/websocket/channel_connection.h"
#include "tests/support/ws_frame.h"

namespace kproxy::sim::streaming {

class ServerTransport {
 public:
  virtual ~ServerTransport() = default;
  // The streams this transport carries; nullptr for message-level transports (legacy
  // WebSocket port-forward, whose channels are not remotecommand stream types).
  virtual StreamConnection* streams() { return nullptr; }
  // Consumes bytes read from the socket (any split). A protocol error is fatal: the caller
  // flushes TakeOutput() (which then holds the close/GOAWAY) and drops the connection.
  virtual Status Receive(std::string_view bytes) = 0;
  // Returns and clears the bytes to write to the socket.
  virtual std::string TakeOutput() = 0;
  // The peer ended the session (WebSocket close, SPDY GOAWAY); nothing more will arrive.
  virtual bool PeerClosed() const = 0;
  // Ends the session the way the real server does: WebSocket close 1000; SPDY RST_STREAM
  // CANCEL for unfinished streams and GOAWAY. Output follows in TakeOutput().
  virtual void End() = 0;
  // Bytes queued and not yet taken (back-pressure signal).
  virtual size_t Pending() const = 0;
};

// WebSocket carrying Kubernetes channels. Answers pings with pongs, accepts text (base64
// protocols) and binary messages, replies to a close with close 1000.
class WsChannelTransport : public ServerTransport {
 public:
  explicit WsChannelTransport(ws::ChannelProtocol protocol);
  ws::ChannelConnection& channels() { return channels_; }
  StreamConnection* streams() override { return &channels_; }
  Status Receive(std::string_view bytes) override;
  std::string TakeOutput() override;
  bool PeerClosed() const override { return peer_closed_; }
  void End() override;
  size_t Pending() const override { return out_.size(); }

 private:
  ws::ChannelConnection channels_;
  test::ws::MessageDecoder decoder_;
  std::string out_;
  bool peer_closed_ = false;
  bool close_sent_ = false;
};

// SPDY/3.1 directly on the socket.
class SpdyTransport : public ServerTransport {
 public:
  SpdyTransport();
  spdy::SpdySession& session() { return session_; }
  StreamConnection* streams() override { return &session_; }
  Status Receive(std::string_view bytes) override;
  std::string TakeOutput() override { return session_.TakeOutput(); }
  bool PeerClosed() const override { return peer_goaway_; }
  void End() override;
  size_t Pending() const override { return session_.BufferedBytes(); }

 private:
  spdy::SpdySession session_;
  bool peer_goaway_ = false;
};

// SPDY/3.1 inside binary WebSocket messages (kubectl ≥ 1.31 port-forward). A text message is a
// protocol error; close 1000 is the end of the byte stream. No WebSocket pings of our own.
class WsTunnelTransport : public ServerTransport {
 public:
  WsTunnelTransport();
  spdy::SpdySession& session() { return session_; }
  StreamConnection* streams() override { return &session_; }
  Status Receive(std::string_view bytes) override;
  std::string TakeOutput() override;
  bool PeerClosed() const override { return peer_closed_; }
  void End() override;
  size_t Pending() const override { return session_.BufferedBytes() + out_.size(); }

 private:
  void FlushSpdy();  // frames the session's queued bytes into out_
  spdy::SpdySession session_;
  test::ws::MessageDecoder decoder_;
  std::string out_;
  bool peer_closed_ = false;
  bool close_sent_ = false;
};

// Largest binary message the tunnel writes: SPDY bytes are cut into messages of this size.
inline constexpr size_t kTunnelMessageBytes = 32 * 1024;

}  // namespace kproxy::sim::streaming

namespace kproxy::sim::streaming {

// WebSocket carrying Kubernetes channel messages that are not remotecommand streams (legacy
// port-forward: channel 2i data, 2i+1 error). Decoded messages go to `on_message`; pings are
// answered, a close is answered with close 1000.
class WsMessageTransport : public ServerTransport {
 public:
  using MessageFn = std::function<Status(const ws::ChannelMessage&)>;
  explicit WsMessageTransport(ws::ChannelProtocol protocol);
  void SetMessageHandler(MessageFn fn) { on_message_ = std::move(fn); }
  // Queues `payload` on `channel` (split into ≤ 32 KiB messages; nothing for empty payloads).
  void Send(uint8_t channel, std::string_view payload);
  Status Receive(std::string_view bytes) override;
  std::string TakeOutput() override { return std::exchange(out_, {}); }
  bool PeerClosed() const override { return peer_closed_; }
  void End() override;
  size_t Pending() const override { return out_.size(); }

 private:
  ws::ChannelProtocol protocol_;
  test::ws::MessageDecoder decoder_;
  MessageFn on_message_;
  std::string out_;
  bool peer_closed_ = false;
  bool close_sent_ = false;
};

}  // namespace kproxy::sim::streaming
