// The port-forward WebSocket tunnel (protocols.md §6): a WebSocket whose subprotocol is
// "SPDY/3.1+portforward.k8s.io" carrying a client SPDY session as a plain byte stream.
// Interop rules from the API server's tunnel (apimachinery wsstream tunneling connection):
// message boundaries mean nothing (a SPDY frame may span messages, a message may hold several
// frames), a text message is a protocol error, close 1000 is EOF, keepalive is SPDY PING only.
#include <memory>

#include "core/base/log.h"
#include "core/session/spdy_keepalive.h"
#include "core/session/stream_transport.h"
#include "core/session/ws_dial.h"
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

class TunnelTransport : public StreamTransport, public WsClientSink {
 public:
  // Adopts the open client; from now on its callbacks (through `slot`) route here.
  TunnelTransport(EventLoop& loop, std::chrono::milliseconds dead_peer,
                  std::unique_ptr<WsClient> client, std::shared_ptr<WsSinkSlot> slot)
      : session_(spdy::Role::kClient),
        name_(kInnerProtocol),
        keepalive_(
            loop, kTunnelPing, dead_peer,
            [this] {
              session_.SendPing();
              Flush();
            },
            [this](Status s) { Ended(std::move(s)); }),
        client_(std::move(client)),
        slot_(std::move(slot)) {
    slot_->Attach(this);
    session_.SetEventHandler([this](const spdy::SessionEvent& e) {
      if (e.kind == spdy::SessionEvent::Kind::kPingReply) keepalive_.OnPong();
      if (e.kind == spdy::SessionEvent::Kind::kProtocolError)
        Log(2, "SPDY (tunnel) session error: " + e.reason);
    });
    keepalive_.Start();
  }
  ~TunnelTransport() override { slot_->Detach(); }

  void OnMessage(std::string_view message, bool binary) override {
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
  void OnClosed(Status s) override {
    if (s.ok()) {
      Ended(Status::Ok());
      return;
    }
    std::string message = s.error().message;
    if (message.rfind("connection lost", 0) != 0) message = "connection lost: " + message;
    Ended(MakeError(ErrorCode::kUnavailable, std::move(message)));
  }
  void OnDrained() override {
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
    keepalive_.Stop();  // no pings once our close is on its way
    session_.SendGoAway(spdy::GoAwayStatus::kOk);
    Flush();
    if (client_) client_->Close(1000);
  }

 private:
  void Ended(Status s) {
    if (ended_) return;
    ended_ = true;
    keepalive_.Stop();
    if (client_ && !s.ok()) client_->Close(1000);
    if (callbacks_.on_closed) callbacks_.on_closed(std::move(s));
  }

  spdy::SpdySession session_;
  std::string name_;
  SpdyKeepalive keepalive_;
  std::unique_ptr<WsClient> client_;
  std::shared_ptr<WsSinkSlot> slot_;
  Callbacks callbacks_;
  bool ended_ = false;
  bool closing_ = false;
};

}  // namespace

std::unique_ptr<PendingDial> DialWebSocketTunnel(EventLoop& loop, const UpgradeTarget& target,
                                                 const RefusalContext& context, DialDone done) {
  WsDialSpec spec;
  spec.subprotocols = {kTunnelSubprotocol};
  spec.ping_interval = std::chrono::duration_cast<std::chrono::milliseconds>(kNoWsPing);
  spec.pong_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(kNoWsPing);
  spec.what = "WebSocket tunnel";
  // Boundaries mean nothing in the tunnel: no reassembly, small SPDY writes coalesced.
  spec.byte_stream = true;
  EventLoop* loop_ptr = &loop;
  const std::chrono::milliseconds dead_peer = target.dead_peer;
  spec.make = [loop_ptr, dead_peer](
                  const std::string& subprotocol, std::unique_ptr<WsClient>& client,
                  std::shared_ptr<WsSinkSlot> slot) -> std::unique_ptr<StreamTransport> {
    // The server names the tunnelled protocol behind the "SPDY/3.1+" prefix.
    std::string inner = subprotocol.rfind(kTunnelPrefix, 0) == 0
                            ? subprotocol.substr(std::string_view(kTunnelPrefix).size())
                            : std::string();
    if (inner != kInnerProtocol) return nullptr;
    return std::make_unique<TunnelTransport>(*loop_ptr, dead_peer, std::move(client),
                                             std::move(slot));
  };
  return DialWsClient(loop, target, std::move(spec), context, std::move(done));
}

}  // namespace kproxy
