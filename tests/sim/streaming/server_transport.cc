#include "tests/sim/streaming/server_transport.h"

#include <utility>
#include <vector>

namespace kproxy::sim::streaming {

namespace wsf = kproxy::test::ws;

namespace {

// Data messages from clients are small (≤ 32 KiB by convention); bound what one may make us
// buffer.
constexpr size_t kMaxClientMessage = 1 << 20;

std::string CloseFrame(uint16_t code) { return wsf::EncodeClose(code, ""); }

}  // namespace

WsChannelTransport::WsChannelTransport(ws::ChannelProtocol protocol)
    : channels_(protocol, ws::ChannelRole::kServer),
      decoder_(wsf::Role::kServer, kMaxClientMessage) {
  // Every channel message leaves as one unfragmented frame (servers read one frame per
  // message; protocols.md §2).
  channels_.SetMessageSink([this](ws::OutMessage m) {
    out_ += wsf::EncodeFrame(m.is_text ? wsf::Opcode::kText : wsf::Opcode::kBinary, m.data);
  });
}

Status WsChannelTransport::Receive(std::string_view bytes) {
  if (peer_closed_) return Status::Ok();
  std::vector<wsf::Message> messages;
  Status st = decoder_.Feed(bytes, &messages);
  for (wsf::Message& m : messages) {
    if (peer_closed_) break;
    switch (m.kind) {
      case wsf::Message::Kind::kPing:
        out_ += wsf::EncodeFrame(wsf::Opcode::kPong, m.payload);
        break;
      case wsf::Message::Kind::kPong:
        break;
      case wsf::Message::Kind::kClose:
        peer_closed_ = true;
        if (!close_sent_) {
          out_ += CloseFrame(wsf::close_code::kNormal);
          close_sent_ = true;
        }
        channels_.OnConnectionClosed();
        break;
      case wsf::Message::Kind::kText:
      case wsf::Message::Kind::kBinary: {
        Status r = channels_.Receive(m.payload, m.kind == wsf::Message::Kind::kText);
        if (!r.ok()) {
          // wsstream drops the connection on a malformed channel message.
          if (!close_sent_) out_ += CloseFrame(wsf::close_code::kProtocolError);
          close_sent_ = true;
          channels_.OnConnectionLost(r.error().message);
          return r;
        }
        break;
      }
    }
  }
  if (!st.ok()) {
    if (!close_sent_) out_ += CloseFrame(decoder_.error_close_code());
    close_sent_ = true;
    channels_.OnConnectionLost(st.error().message);
  }
  return st;
}

std::string WsChannelTransport::TakeOutput() { return std::exchange(out_, {}); }

void WsChannelTransport::End() {
  if (close_sent_) return;
  out_ += CloseFrame(wsf::close_code::kNormal);
  close_sent_ = true;
}

SpdyTransport::SpdyTransport() : session_(spdy::Role::kServer) {
  session_.SetEventHandler([this](const spdy::SessionEvent& e) {
    if (e.kind == spdy::SessionEvent::Kind::kGoAway) peer_goaway_ = true;
  });
}

Status SpdyTransport::Receive(std::string_view bytes) { return session_.Receive(bytes); }

void SpdyTransport::End() {
  if (!session_.IsClosing()) session_.EndSession();
}

WsTunnelTransport::WsTunnelTransport()
    : session_(spdy::Role::kServer), decoder_(wsf::Role::kServer, kMaxClientMessage) {
  session_.SetEventHandler([this](const spdy::SessionEvent& e) {
    if (e.kind == spdy::SessionEvent::Kind::kGoAway) peer_closed_ = true;
  });
}

Status WsTunnelTransport::Receive(std::string_view bytes) {
  if (peer_closed_) return Status::Ok();
  std::vector<wsf::Message> messages;
  Status st = decoder_.Feed(bytes, &messages);
  for (wsf::Message& m : messages) {
    if (peer_closed_) break;
    switch (m.kind) {
      case wsf::Message::Kind::kPing:
        FlushSpdy();
        out_ += wsf::EncodeFrame(wsf::Opcode::kPong, m.payload);
        break;
      case wsf::Message::Kind::kPong:
        break;
      case wsf::Message::Kind::kClose:
        peer_closed_ = true;
        FlushSpdy();
        if (!close_sent_) out_ += CloseFrame(wsf::close_code::kNormal);
        close_sent_ = true;
        break;
      case wsf::Message::Kind::kText:
        FlushSpdy();
        if (!close_sent_) out_ += CloseFrame(wsf::close_code::kInvalidData);
        close_sent_ = true;
        return MakeError(ErrorCode::kProtocol, "text message in the SPDY tunnel");
      case wsf::Message::Kind::kBinary:
        if (Status r = session_.Receive(m.payload); !r.ok()) {
          FlushSpdy();  // the GOAWAY(PROTOCOL_ERROR), framed, then the close
          if (!close_sent_) out_ += CloseFrame(wsf::close_code::kProtocolError);
          close_sent_ = true;
          return r;
        }
        break;
    }
  }
  if (!st.ok() && !close_sent_) {
    FlushSpdy();
    out_ += CloseFrame(decoder_.error_close_code());
    close_sent_ = true;
  }
  return st;
}

void WsTunnelTransport::FlushSpdy() {
  std::string spdy = session_.TakeOutput();
  if (close_sent_) return;  // nothing may follow a close frame
  for (size_t off = 0; off < spdy.size(); off += kTunnelMessageBytes) {
    out_ += wsf::EncodeFrame(wsf::Opcode::kBinary,
                             std::string_view(spdy).substr(off, kTunnelMessageBytes));
  }
}

std::string WsTunnelTransport::TakeOutput() {
  FlushSpdy();
  return std::exchange(out_, {});
}

void WsTunnelTransport::End() {
  if (close_sent_) return;
  if (!session_.IsClosing()) session_.EndSession();
  FlushSpdy();
  out_ += CloseFrame(wsf::close_code::kNormal);
  close_sent_ = true;
}

}  // namespace kproxy::sim::streaming

namespace kproxy::sim::streaming {

WsMessageTransport::WsMessageTransport(ws::ChannelProtocol protocol)
    : protocol_(protocol), decoder_(test::ws::Role::kServer, 1 << 20) {}

void WsMessageTransport::Send(uint8_t channel, std::string_view payload) {
  if (close_sent_) return;
  for (ws::OutMessage& m : ws::EncodeData(protocol_, channel, payload)) {
    out_ += test::ws::EncodeFrame(m.is_text ? test::ws::Opcode::kText : test::ws::Opcode::kBinary,
                                  m.data);
  }
}

Status WsMessageTransport::Receive(std::string_view bytes) {
  namespace wsf = kproxy::test::ws;
  if (peer_closed_) return Status::Ok();
  std::vector<wsf::Message> messages;
  Status st = decoder_.Feed(bytes, &messages);
  for (wsf::Message& m : messages) {
    if (peer_closed_) break;
    if (m.kind == wsf::Message::Kind::kPing) {
      out_ += wsf::EncodeFrame(wsf::Opcode::kPong, m.payload);
    } else if (m.kind == wsf::Message::Kind::kClose) {
      peer_closed_ = true;
      End();
    } else if (m.kind == wsf::Message::Kind::kText || m.kind == wsf::Message::Kind::kBinary) {
      auto decoded = ws::DecodeMessage(protocol_, ws::ChannelRole::kServer, m.payload,
                                       m.kind == wsf::Message::Kind::kText);
      Status r = decoded.ok() ? (on_message_ ? on_message_(*decoded) : Status::Ok())
                              : Status(decoded.error());
      if (!r.ok()) {
        if (!close_sent_) out_ += wsf::EncodeClose(wsf::close_code::kProtocolError, "");
        close_sent_ = true;
        return r;
      }
    }
  }
  if (!st.ok() && !close_sent_) {
    out_ += wsf::EncodeClose(decoder_.error_close_code(), "");
    close_sent_ = true;
  }
  return st;
}

void WsMessageTransport::End() {
  if (close_sent_) return;
  out_ += test::ws::EncodeClose(test::ws::close_code::kNormal, "");
  close_sent_ = true;
}

}  // namespace kproxy::sim::streaming
