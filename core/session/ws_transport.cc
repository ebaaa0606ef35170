// WebSocket dialer and transport: libwebsockets frames (core/transport/ws_client), the
// Kubernetes channel layer (core/websocket/channel_connection) on its messages.
#include <memory>

#include "core/base/log.h"
#include "core/session/response_reader.h"
#include "core/session/stream_transport.h"
#include "core/transport/ws_client.h"
#include "core/websocket/channel_connection.h"

namespace kproxy {
namespace {

class WsTransport : public StreamTransport {
 public:
  WsTransport(ws::ChannelProtocol protocol, std::string name)
      : channels_(protocol, ws::ChannelRole::kClient), name_(std::move(name)) {}

  // Adopts the open client; from now on its callbacks route here.
  void Adopt(std::unique_ptr<WsClient> client) {
    client_ = std::move(client);
    channels_.SetMessageSink([this](ws::OutMessage m) {
      if (client_) client_->Send(m.data);
    });
  }
  void OnMessage(std::string_view message, bool binary) {
    Status s = channels_.Receive(message, !binary);
    if (!s.ok()) {
      Log(2, "channel protocol error: " + s.error().message);
      Ended(MakeError(ErrorCode::kProtocol, s.error().message));
    }
  }
  void OnClosed(Status s) {
    if (ended_) return;
    if (s.ok()) {
      channels_.OnConnectionClosed();
    } else {
      channels_.OnConnectionLost(s.error().message);
    }
    Ended(std::move(s));
  }
  void OnDrained() {
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
  Callbacks callbacks_;
  bool ended_ = false;
};

class WsDial : public PendingDial {
 public:
  WsDial(EventLoop& loop, const UpgradeTarget& target, std::vector<std::string> subprotocols,
         RefusalContext context, DialDone done)
      : loop_(loop),
        target_(target),
        subprotocols_(std::move(subprotocols)),
        context_(std::move(context)),
        done_(std::move(done)) {}
  ~WsDial() override { *alive_ = false; }

  void Start() {
    WsClientOptions o;
    o.target = target_.dial;
    o.path_and_query = target_.path_and_query;
    o.subprotocols = subprotocols_;
    o.headers = target_.headers;
    o.headers.emplace_back("User-Agent", target_.user_agent);
    o.ping_interval = target_.keepalive;
    o.pong_timeout = target_.dead_peer;
    o.refusal_reader = MakeRefusalReaderFactory();
    auto alive = alive_;
    auto holder = holder_;
    WsClient::Callbacks cb;
    cb.on_open = [this, alive](const std::string& subprotocol) {
      if (*alive) OnOpen(subprotocol);
    };
    cb.on_failed = [this, alive](const WsConnectFailure& f) {
      if (*alive) OnFailed(f);
    };
    cb.on_message = [holder](std::string_view m, bool binary) {
      if (holder->transport) holder->transport->OnMessage(m, binary);
    };
    cb.on_closed = [holder](Status s) {
      if (holder->transport) holder->transport->OnClosed(std::move(s));
    };
    cb.on_drained = [holder] {
      if (holder->transport) holder->transport->OnDrained();
    };
    client_ = WsClient::Connect(loop_, std::move(o), std::move(cb));
  }

 private:
  // Lets the client's callbacks find the transport after the dial handed it over; the
  // transport clears it when destroyed.
  struct Holder {
    WsTransport* transport = nullptr;
  };
  class OwnedTransport : public WsTransport {
   public:
    OwnedTransport(ws::ChannelProtocol p, std::string name, std::shared_ptr<Holder> h)
        : WsTransport(p, std::move(name)), holder_(std::move(h)) {
      holder_->transport = this;
    }
    ~OwnedTransport() override { holder_->transport = nullptr; }

   private:
    std::shared_ptr<Holder> holder_;
  };

  void OnOpen(const std::string& subprotocol) {
    Log(3, "WebSocket upgrade accepted with subprotocol " + subprotocol);
    auto protocol = ws::ParseChannelProtocol(subprotocol);
    if (!protocol.ok()) {
      Diagnosis d;
      d.kind = RefusalKind::kOther;
      d.code = ErrorCode::kUpgradeRejected;
      d.headline = "error: the server chose an unknown subprotocol \"" + subprotocol + "\"";
      Finish(FailureStage::kHandshake, MakeError(d.code, d.headline), d);
      return;
    }
    auto transport = std::make_unique<OwnedTransport>(*protocol, subprotocol, holder_);
    transport->Adopt(std::move(client_));
    finished_ = true;
    auto done = std::move(done_);
    done(std::unique_ptr<StreamTransport>(std::move(transport)), AttemptFailure{});
  }

  void OnFailed(const WsConnectFailure& f) {
    if (f.dial == DialFailure::kAlpnH2) {
      RefusedResponse r;
      r.alpn_h2 = true;
      r.transport = Transport::kWebSocket;
      Finish(FailureStage::kHandshake, f.error, ClassifyRefusal(r, context_));
      return;
    }
    if (f.dial != DialFailure::kNone) {
      Finish(f.dial == DialFailure::kProxy ? FailureStage::kProxyDial : FailureStage::kDial,
             f.error, Diagnosis{});
      return;
    }
    if (f.refused) {
      RefusedResponse r = *f.refused;
      r.transport = Transport::kWebSocket;
      Diagnosis d = ClassifyRefusal(r, context_);
      Finish(FailureStage::kHandshake, MakeError(d.code, d.headline), d);
      return;
    }
    Diagnosis d;
    d.kind = RefusalKind::kOther;
    d.code = ErrorCode::kUpgradeRejected;
    d.headline = "error: " + f.error.message;
    Finish(FailureStage::kHandshake, f.error, d);
  }

  void Finish(FailureStage stage, Error error, Diagnosis d) {
    if (finished_) return;
    finished_ = true;
    if (d.headline.empty()) d.headline = "error: " + error.message;
    AttemptFailure failure{stage, error, std::move(d)};
    auto done = std::move(done_);
    // The client may not be destroyed from inside its own failure callback's caller frame
    // safely on every lws path: drop it on the next loop iteration.
    if (client_) {
      auto* raw = client_.release();
      loop_.Post([raw] { delete raw; });
    }
    done(std::move(error), std::move(failure));
  }

  EventLoop& loop_;
  UpgradeTarget target_;
  std::vector<std::string> subprotocols_;
  RefusalContext context_;
  DialDone done_;
  std::unique_ptr<WsClient> client_;
  std::shared_ptr<Holder> holder_ = std::make_shared<Holder>();
  bool finished_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

std::unique_ptr<PendingDial> DialWebSocket(EventLoop& loop, const UpgradeTarget& target,
                                           std::vector<std::string> subprotocols,
                                           const RefusalContext& context, DialDone done) {
  auto dial =
      std::make_unique<WsDial>(loop, target, std::move(subprotocols), context, std::move(done));
  dial->Start();
  return dial;
}

}  // namespace kproxy
