// WebSocket dialer and transport: libwebsockets frames (core/transport/ws_client), the
// Kubernetes channel layer (core/websocket/channel_connection) on its messages.
#include <memory>

#include "core/base/log.h"
#include "core/session/stream_transport.h"
#include "core/session/ws_dial.h"
#include "core/transport/ws_client.h"
#include "core/websocket/channel_connection.h"

namespace kproxy {
namespace {

class WsTransport : public StreamTransport, public WsClientSink {
 public:
  // Adopts the open client; from now on its callbacks (through `slot`) route here.
  WsTransport(ws::ChannelProtocol protocol, std::string name, std::unique_ptr<WsClient> client,
              std::shared_ptr<WsSinkSlot> slot)
      : channels_(protocol, ws::ChannelRole::kClient),
        name_(std::move(name)),
        client_(std::move(client)),
        slot_(std::move(slot)) {
    slot_->Attach(this);
    channels_.SetMessageSink([this](ws::OutMessage m) {
      if (client_) client_->Send(m.data);
    });
  }
  ~WsTransport() override { slot_->Detach(); }

  void OnMessage(std::string_view message, bool binary) override {
    Status s = channels_.Receive(message, !binary);
    if (!s.ok()) {
      Log(2, "channel protocol error: " + s.error().message);
      Ended(MakeError(ErrorCode::kProtocol, s.error().message));
    }
  }
  void OnClosed(Status s) override {
    if (ended_) return;
    if (s.ok()) {
      channels_.OnConnectionClosed();
    } else {
      channels_.OnConnectionLost(s.error().message);
    }
    Ended(std::move(s));
  }
  void OnDrained() override {
    if (callbacks_.on_drained) callbacks_.on_drained();
  }

  StreamConnection* connection() override { return &channels_; }
  StreamProtocol kind() const override { return StreamProtocol::kWebSocket; }
  const std::string& negotiated() const override { return name_; }
  void SetCallbacks(Callbacks callbacks) override { callbacks_ = std::move(callbacks); }
  void Flush() override {}  // the message sink sends at once
  size_t BufferedBytes() const override {
    return channels_.BufferedBytes() + (client_ ? client_->BufferedBytes() : 0);
  }
  void SetReading(bool on) override {
    if (client_) client_->SetReading(on);
  }
  void Close() override {
    if (client_ && !ended_) client_->Close(1000);
  }

 private:
  void Ended(Status s) {
    if (ended_) return;
    ended_ = true;
    if (callbacks_.on_closed) callbacks_.on_closed(std::move(s));
  }

  ws::ChannelConnection channels_;
  std::string name_;
  std::unique_ptr<WsClient> client_;
  std::shared_ptr<WsSinkSlot> slot_;
  Callbacks callbacks_;
  bool ended_ = false;
};

}  // namespace

std::unique_ptr<PendingDial> DialWebSocket(EventLoop& loop, const UpgradeTarget& target,
                                           std::vector<std::string> subprotocols,
                                           const RefusalContext& context, DialDone done) {
  WsDialSpec spec;
  spec.subprotocols = std::move(subprotocols);
  spec.ping_interval = target.keepalive;
  spec.pong_timeout = target.dead_peer;
  spec.make = [](const std::string& subprotocol, std::unique_ptr<WsClient>& client,
                 std::shared_ptr<WsSinkSlot> slot) -> std::unique_ptr<StreamTransport> {
    auto protocol = ws::ParseChannelProtocol(subprotocol);
    if (!protocol.ok()) return nullptr;
    return std::make_unique<WsTransport>(*protocol, subprotocol, std::move(client),
                                         std::move(slot));
  };
  return DialWsClient(loop, target, std::move(spec), context, std::move(done));
}

}  // namespace kproxy
