#include "core/session/portforward_session.h"

#include <csignal>
#include <optional>
#include <ostream>

#include "core/base/log.h"
#include "core/portforward/forwarder.h"
#include "core/portforward/stream_pairing_client.h"
#include "core/session/attempt_report.h"
#include "core/session/portforward_legacy_ws.h"
#include "core/session/protocol_attempts.h"

namespace kproxy {
namespace {

const std::vector<std::string> kSpdyVersions = {"portforward.k8s.io"};

// The forwarder's Tunnel over one StreamTransport carrying portforward.k8s.io stream pairs
// (plain SPDY, or SPDY inside the WebSocket tunnel).
class PairTunnel : public portforward::Tunnel {
 public:
  explicit PairTunnel(StreamTransport* t) : transport_(t), pairs_(t->connection()) {}
  portforward::RequestId Open(uint16_t remote, uint16_t local,
                              portforward::ForwardCallbacks cb) override {
    return pairs_.Open(remote, local, std::move(cb));
  }
  bool Write(portforward::RequestId id, std::string_view b) override { return pairs_.Write(id, b); }
  bool CloseWrite(portforward::RequestId id) override { return pairs_.CloseWrite(id); }
  void Close(portforward::RequestId id) override { pairs_.Close(id); }
  void Flush() override { transport_->Flush(); }
  size_t BufferedBytes() const override { return transport_->BufferedBytes(); }
  void SetReading(bool on) override { transport_->SetReading(on); }

 private:
  StreamTransport* transport_;
  portforward::StreamPairClient pairs_;
};

class PortForwardRun {
 public:
  PortForwardRun(EventLoop& loop, PortForwardSessionOptions o, std::ostream& out,
                 std::ostream& diag)
      : loop_(loop),
        o_(std::move(o)),
        out_(out),
        diag_(diag),
        attempts_(loop_, o_.target, diag_, AttemptsOptionsFrom(o_, "portforward", Name),
                  AttemptCallbacks()) {}

  Status Run() {
    Log(1, "protocol plan: " + o_.plan_reason);
    portforward::ForwarderOptions fo;
    fo.out_line = [this](const std::string& l) { out_ << l << "\n" << std::flush; };
    fo.err_line = [this](const std::string& l) {
      diag_ << (l.rfind("error", 0) == 0 ? "" : "error: ") << l << "\n" << std::flush;
    };
    forwarder_ = std::make_unique<portforward::Forwarder>(loop_, std::move(fo));
    if (o_.handle_signals) {
      for (int signo : {SIGINT, SIGTERM}) {
        Status s = loop_.WatchSignal(signo, [this](int sig) {
          Log(1, "signal " + std::to_string(sig) + ": ending port-forward");
          Finish(Status::Ok());
        });
        if (s.ok()) watched_signals_.push_back(signo);
      }
    }
    attempts_.Dial();
    loop_.Run();
    for (int signo : watched_signals_) loop_.UnwatchSignal(signo);
    if (reconnect_timer_) loop_.CancelTimer(reconnect_timer_);
    // Dependency order: local sockets (they close their streams), the pairs, the transport.
    listeners_.clear();
    forwarder_.reset();
    legacy_.reset();
    tunnel_.reset();
    if (transport_) transport_->Close();
    // Let the GOAWAY / close frame reach the socket before the transport goes away.
    if (transport_) loop_.RunUntil([] { return false; }, std::chrono::milliseconds(50));
    transport_.reset();
    attempts_.CancelDial();
    if (!result_) return MakeError(ErrorCode::kInternal, "session ended without a result");
    return *result_;
  }

 private:
  static const char* Name(StreamProtocol p) {
    return p == StreamProtocol::kWebSocket ? "WebSocket tunnel" : "SPDY";
  }

  ProtocolAttempts::Callbacks AttemptCallbacks() {
    ProtocolAttempts::Callbacks cb;
    cb.dial = [this](StreamProtocol p, const UpgradeTarget& target, DialDone done) {
      if (p == StreamProtocol::kWebSocket)
        return DialWebSocketTunnel(loop_, target, o_.context, std::move(done));
      return DialSpdy(loop_, target, kSpdyVersions, o_.context, std::move(done));
    };
    cb.on_connected = [this](std::unique_ptr<StreamTransport> t) { OnConnected(std::move(t)); };
    cb.on_finished = [this](Error e) { Finish(std::move(e)); };
    cb.on_redial_failed = [this](AttemptFailure f) { OnRedialFailed(std::move(f)); };
    // Neither upgrade was accepted: the old one-WebSocket-per-connection form may still be.
    if (o_.legacy_websocket_fallback) cb.on_all_refused = [this] { StartLegacy(); };
    return cb;
  }

  void OnConnected(std::unique_ptr<StreamTransport> t) {
    attempts_.CancelDial();
    transport_ = std::move(t);
    std::string name =
        std::string(Name(transport_->kind())) + " (" + transport_->negotiated() + ")";
    Log(1, "connected over " + name);
    if (!ever_connected_) {
      attempts_.Accept(transport_->kind());
    } else {
      diag_ << "kproxy: reconnected to the pod over " << name << "\n" << std::flush;
    }
    backoff_ = o_.reconnect_initial;
    StreamTransport::Callbacks cb;
    cb.on_closed = [this](Status s) { OnTransportClosed(std::move(s)); };
    cb.on_drained = [this] {
      if (forwarder_) forwarder_->OnTunnelDrained();
    };
    transport_->SetCallbacks(std::move(cb));
    tunnel_ = std::make_unique<PairTunnel>(transport_.get());
    if (!ever_connected_) {
      ever_connected_ = true;
      if (!Listen()) return;
    }
    forwarder_->SetTunnel(tunnel_.get());
    if (o_.on_connected) o_.on_connected(transport_->negotiated());
  }

  void StartLegacy() {
    attempts_.CancelDial();
    Log(1, "falling back to legacy WebSocket port-forward (v4.channel.k8s.io, ?ports=)");
    diag_ << "kproxy: the server accepted neither the WebSocket tunnel nor SPDY; using the "
             "legacy WebSocket port-forward (one WebSocket per connection)\n"
          << std::flush;
    legacy_ = std::make_unique<LegacyWsTunnel>(loop_, o_.target);
    legacy_->SetOnDrained([this] {
      if (forwarder_) forwarder_->OnTunnelDrained();
    });
    ever_connected_ = true;
    if (!Listen()) return;
    forwarder_->SetTunnel(legacy_.get());
    if (o_.on_connected) o_.on_connected("v4.channel.k8s.io");
  }

  bool Listen() {
    std::vector<uint16_t> bound;
    for (const auto& p : o_.ports) {
      uint16_t remote = p.remote;
      std::vector<std::unique_ptr<portforward::Listener>>* where = nullptr;
      // The local port is only known after the bind (random ports): the accept callback
      // looks it up from the listener group.
      size_t group = listeners_.size();
      listeners_.emplace_back();
      where = &listeners_.back();
      auto ls =
          portforward::ListenOnPort(loop_, o_.addresses, p.local, [this, group, remote](int fd) {
            uint16_t local = listeners_[group].empty() ? 0 : listeners_[group][0]->port();
            forwarder_->Accept(fd, local, remote);
          });
      if (!ls.ok()) {
        diag_ << "error: " << ls.error().message << "\n" << std::flush;
        Finish(MakeError(ErrorCode::kUnavailable, ""));
        return false;
      }
      *where = std::move(*ls);
      for (const auto& l : *where)
        out_ << "Forwarding from " << portforward::JoinHostPort(l->address().ip, l->port())
             << " -> " << remote << "\n";
      bound.push_back((*where)[0]->port());
    }
    out_ << std::flush;
    if (o_.on_listening) o_.on_listening(bound, [this] { Finish(Status::Ok()); });
    return true;
  }

  void OnTransportClosed(Status s) {
    if (result_) return;
    std::string why = s.ok() ? "the server closed the connection" : s.error().message;
    forwarder_->DropTunnelConnections(why);
    forwarder_->SetTunnel(nullptr);
    // The transport is inside its own callback: free it (and the pairs over it) later.
    auto* t = transport_.release();
    auto* p = tunnel_.release();
    loop_.Post([t, p] {
      delete p;
      delete t;
    });
    ScheduleReconnect("lost connection to the pod (" + why + ")");
  }

  void ScheduleReconnect(const std::string& why) {
    diag_ << "kproxy: " << why << "; reconnecting in " << FormatDelay(backoff_) << "\n"
          << std::flush;
    reconnect_timer_ = loop_.AddTimer(backoff_, [this] {
      reconnect_timer_ = 0;
      // Re-dial the protocol that worked; the fallback was decided at the start.
      attempts_.Dial();
    });
    backoff_ = std::min(backoff_ * 2, o_.reconnect_max);
  }

  void OnRedialFailed(AttemptFailure f) {
    attempts_.CancelDial();
    // A refused upgrade (RBAC, pod gone, session expired) will not heal by waiting.
    if (f.stage == FailureStage::kHandshake) {
      if (f.diagnosis.kind == RefusalKind::kUnauthenticated && attempts_.can_reauthenticate() &&
          attempts_.Reauthenticate().ok()) {
        attempts_.Redial();
        return;
      }
      diag_ << "kproxy: reconnecting failed:\n";
      ReportAttempt(diag_, f);
      Finish(MakeError(FinalErrorCode(f), ""));
      return;
    }
    ScheduleReconnect("reconnecting failed (" + f.error.message + ")");
  }

  static std::string FormatDelay(std::chrono::milliseconds d) {
    if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
    return std::to_string(d.count()) + "ms";
  }

  void Finish(Status s) {
    if (result_) return;
    result_.emplace(std::move(s));
    loop_.Stop();
  }

  EventLoop& loop_;
  PortForwardSessionOptions o_;
  std::ostream& out_;
  std::ostream& diag_;
  ProtocolAttempts attempts_;
  bool ever_connected_ = false;
  std::unique_ptr<StreamTransport> transport_;
  std::unique_ptr<PairTunnel> tunnel_;
  std::unique_ptr<LegacyWsTunnel> legacy_;
  std::unique_ptr<portforward::Forwarder> forwarder_;
  std::vector<std::vector<std::unique_ptr<portforward::Listener>>> listeners_;
  std::vector<int> watched_signals_;
  EventLoop::TimerId reconnect_timer_ = 0;
  std::chrono::milliseconds backoff_{500};
  std::optional<Status> result_;
};

}  // namespace

Status RunPortForwardSession(EventLoop& loop, PortForwardSessionOptions options, std::ostream& out,
                             std::ostream& diag) {
  PortForwardRun run(loop, std::move(options), out, diag);
  return run.Run();
}

}  // namespace kproxy
