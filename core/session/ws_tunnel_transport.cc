// The port-forward WebSocket tunnel (protocols.md §6): a WebSocket whose subprotocol is
// "SPDY/3.1+portforward.k8s.io" carrying a client SPDY session as a plain byte stream.
// Interop rules from the API server's tunnel (apimachinery wsstream tunneling connection):
// message boundaries mean nothing (a SPDY frame may span messages, a message may hold several
// frames), a text message is a protocol error, close 1000 is EOF, keepalive is SPDY PING only.
#include <memory>

#include "core/base/log.h"
#include "core/session/response_reader.h"
#include "core/session/stream_transport.h"
#include "core/spdy/spdy_session.h"
#include "core/transport/ws_client.h"

namespace kproxy {
namespace {

constexpr const char* kTunnelSubprotocol = "SPDY/3.1+portforward.k8s.io";
constexpr const char* kTunnelPrefix = "SPDY/3.1+";
constexpr const char* kInnerProtocol = "portforward.k8s.io";
// SPDY pings every 10 s inside the tunnel (client-go's tunnel dialer); WsClient's own ping
// timer is pushed out of the way since the tunnel sends no WebSocket pings.
constexpr std::chrono::milliseconds kTunnelPing{10000};
constexpr std::chrono::hours kNoWsPing{24 * 365};

class TunnelTransport : public StreamTransport {
 public:
  TunnelTransport(EventLoop& loop, std::chrono::milliseconds dead_peer)
      : loop_(loop), session_(spdy::Role::kClient), name_(kInnerProtocol), dead_peer_(dead_peer) {
    session_.SetEventHandler([this](const spdy::SessionEvent& e) {
      if (e.kind == spdy::SessionEvent::Kind::kPingReply) last_pong_ = loop_.Now();
      if (e.kind == spdy::SessionEvent::Kind::kProtocolError)
        Log(2, "SPDY (tunnel) session error: " + e.reason);
    });
    last_pong_ = loop_.Now();
  }
  ~TunnelTransport() override {
    *alive_ = false;
    if (ping_timer_) loop_.CancelTimer(ping_timer_);
  }

  void Adopt(std::unique_ptr<WsClient> client) {
    client_ = std::move(client);
    SchedulePing();
  }
  void OnMessage(std::string_view message, bool binary) {
    if (ended_) return;
    if (!binary) {
      Ended(MakeError(ErrorCode::kProtocol,
                      "the port-forward tunnel received a text message (binary only)"));
      return;
    }
    Status s = session_.Receive(message);
    Flush();  // ping echoes, replies
    if (!s.ok())
      Ended(MakeError(ErrorCode::kProtocol, "SPDY protocol error: " + s.error().message));
  }
  void OnClosed(Status s) {
    if (s.ok()) {
      Ended(Status::Ok());
      return;
    }
    std::string message = s.error().message;
    if (message.rfind("connection lost", 0) != 0) message = "connection lost: " + message;
    Ended(MakeError(ErrorCode::kUnavailable, std::move(message)));
  }
  void OnDrained() {
    if (callbacks_.on_drained) callbacks_.on_drained();
  }

  StreamConnection* connection() override { return &session_; }
  StreamProtocol kind() const override { return StreamProtocol::kWebSocket; }
  const std::string& negotiated() const override { return name_; }
  void SetCallbacks(Callbacks callbacks) override { callbacks_ = std::move(callbacks); }
  void Flush() override {
    std::string out = session_.TakeOutput();
    if (!out.empty() && client_ && !ended_) client_->Send(out);
  }
  size_t BufferedBytes() const override {
    return session_.BufferedBytes() + (client_ ? client_->BufferedBytes() : 0);
  }
  void SetReading(bool on) override {
    if (client_) client_->SetReading(on);
  }
  void Close() override {
    if (ended_ || closing_) return;
    closing_ = true;
    session_.SendGoAway(spdy::GoAwayStatus::kOk);
    Flush();
    if (client_) client_->Close(1000);
  }

 private:
  void SchedulePing() {
    auto alive = alive_;
    ping_timer_ = loop_.AddTimer(kTunnelPing, [this, alive] {
      if (!*alive) return;
      ping_timer_ = 0;
      if (ended_ || closing_) return;
      if (loop_.Now() - last_pong_ > dead_peer_) {
        Ended(MakeError(ErrorCode::kUnavailable,
                        "connection lost: no answer to keepalive pings for " +
                            std::to_string(dead_peer_.count() / 1000) + "s"));
        return;
      }
      session_.SendPing();
      Flush();
      SchedulePing();
    });
  }
  void Ended(Status s) {
    if (ended_) return;
    ended_ = true;
    if (ping_timer_) loop_.CancelTimer(ping_timer_);
    ping_timer_ = 0;
    if (client_ && !s.ok()) client_->Close(1000);
    if (callbacks_.on_closed) callbacks_.on_closed(std::move(s));
  }

  EventLoop& loop_;
  spdy::SpdySession session_;
  std::string name_;
  std::chrono::milliseconds dead_peer_;
  std::unique_ptr<WsClient> client_;
  Callbacks callbacks_;
  EventLoop::TimerId ping_timer_ = 0;
  EventLoop::Clock::time_point last_pong_;
  bool ended_ = false;
  bool closing_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

class TunnelDial : public PendingDial {
 public:
  TunnelDial(EventLoop& loop, const UpgradeTarget& target, RefusalContext context, DialDone done)
      : loop_(loop), target_(target), context_(std::move(context)), done_(std::move(done)) {}
  ~TunnelDial() override { *alive_ = false; }

  void Start() {
    WsClientOptions o;
    o.target = target_.dial;
    o.path_and_query = target_.path_and_query;
    o.subprotocols = {kTunnelSubprotocol};
    o.headers = target_.headers;
    o.headers.emplace_back("User-Agent", target_.user_agent);
    o.ping_interval = std::chrono::duration_cast<std::chrono::milliseconds>(kNoWsPing);
    o.pong_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(kNoWsPing);
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
  struct Holder {
    TunnelTransport* transport = nullptr;
  };
  class OwnedTransport : public TunnelTransport {
   public:
    OwnedTransport(EventLoop& loop, std::chrono::milliseconds dead, std::shared_ptr<Holder> h)
        : TunnelTransport(loop, dead), holder_(std::move(h)) {
      holder_->transport = this;
    }
    ~OwnedTransport() override { holder_->transport = nullptr; }

   private:
    std::shared_ptr<Holder> holder_;
  };

  void OnOpen(const std::string& subprotocol) {
    Log(3, "WebSocket tunnel accepted with subprotocol " + subprotocol);
    // The server names the tunnelled protocol behind the "SPDY/3.1+" prefix.
    std::string inner = subprotocol.rfind(kTunnelPrefix, 0) == 0
                            ? subprotocol.substr(std::string_view(kTunnelPrefix).size())
                            : std::string();
    if (inner != kInnerProtocol) {
      Diagnosis d;
      d.kind = RefusalKind::kOther;
      d.code = ErrorCode::kUpgradeRejected;
      d.headline = "error: the server chose an unknown subprotocol \"" + subprotocol + "\"";
      Finish(FailureStage::kHandshake, MakeError(d.code, d.headline), d);
      return;
    }
    auto transport = std::make_unique<OwnedTransport>(loop_, target_.dead_peer, holder_);
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
    // As in ws_transport.cc: free the client after lws has left its callback.
    if (client_) {
      auto* raw = client_.release();
      loop_.Post([raw] { delete raw; });
    }
    done(std::move(error), std::move(failure));
  }

  EventLoop& loop_;
  UpgradeTarget target_;
  RefusalContext context_;
  DialDone done_;
  std::unique_ptr<WsClient> client_;
  std::shared_ptr<Holder> holder_ = std::make_shared<Holder>();
  bool finished_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

std::unique_ptr<PendingDial> DialWebSocketTunnel(EventLoop& loop, const UpgradeTarget& target,
                                                 const RefusalContext& context, DialDone done) {
  auto dial = std::make_unique<TunnelDial>(loop, target, context, std::move(done));
  dial->Start();
  return dial;
}

}  // namespace kproxy
