// SPDY/3.1 dialer and transport: our own TLS connection, our own HTTP/1.1 upgrade (so a
// refusal's status, headers and body all reach the classifier), then a client SpdySession.
#include <memory>

#include "core/base/log.h"
#include "core/session/spdy_keepalive.h"
#include "core/session/stream_transport.h"
#include "core/spdy/spdy_session.h"
#include "core/transport/http_response_parser.h"
#include "core/transport/http_upgrade.h"

namespace kproxy {
namespace {

// The TLS connection's callbacks are fixed at dial time; they forward through this router so
// the dial (during the upgrade) and then the transport (after the 101) can own them in turn.
struct ConnRouter {
  std::function<void(Status)> on_connected;
  std::function<void(std::string_view)> on_data;
  std::function<void(Status)> on_closed;
  std::function<void()> on_drained;
};

class SpdyTransport : public StreamTransport {
 public:
  SpdyTransport(EventLoop& loop, std::unique_ptr<TlsConnection> conn,
                std::shared_ptr<ConnRouter> router, std::string version,
                std::chrono::milliseconds keepalive, std::chrono::milliseconds dead_peer)
      : conn_(std::move(conn)),
        router_(std::move(router)),
        session_(spdy::Role::kClient),
        version_(std::move(version)),
        keepalive_(
            loop, keepalive, dead_peer,
            [this] {
              session_.SendPing();
              Flush();
            },
            [this](Status s) { Ended(std::move(s)); }) {
    session_.SetEventHandler([this](const spdy::SessionEvent& e) { OnEvent(e); });
    session_.SetStreamedData(true);  // TlsConnection hands up 256 KiB batches: no copies
  }
  ~SpdyTransport() override { *alive_ = false; }

  // Takes over the connection's callbacks; `leftover` are bytes that followed the 101.
  Status Start(std::string leftover) {
    auto alive = alive_;
    router_->on_connected = [](Status) {};
    router_->on_data = [this, alive](std::string_view bytes) {
      if (*alive) OnData(bytes);
    };
    router_->on_closed = [this, alive](Status s) {
      if (*alive)
        Ended(s.ok() ? Status::Ok()
                     : Status(MakeError(ErrorCode::kUnavailable,
                                        "connection lost: " + s.error().message)));
    };
    router_->on_drained = [this, alive] {
      if (*alive && callbacks_.on_drained) callbacks_.on_drained();
    };
    if (!leftover.empty()) {
      Status s = session_.Receive(leftover);
      if (!s.ok()) return s;
    }
    keepalive_.Start();
    return Status::Ok();
  }

  StreamConnection* connection() override { return &session_; }
  StreamProtocol kind() const override { return StreamProtocol::kSpdy; }
  const std::string& negotiated() const override { return version_; }
  void SetCallbacks(Callbacks callbacks) override { callbacks_ = std::move(callbacks); }
  void Flush() override {
    if (session_.BufferedBytes() == 0) return;
    // Buffers circulate session -> connection -> back here: no copy, no allocation per batch.
    session_.TakeOutputInto(scratch_);
    if (conn_) conn_->WriteSwap(scratch_);
    scratch_.clear();
  }
  size_t BufferedBytes() const override {
    return session_.BufferedBytes() + (conn_ ? conn_->BufferedBytes() : 0);
  }
  void SetReading(bool on) override {
    if (conn_) conn_->SetReading(on);
  }
  void Close() override {
    if (closed_) return;
    session_.SendGoAway(spdy::GoAwayStatus::kOk);
    Flush();
    closed_ = true;
    if (conn_) conn_->Close();
  }

 private:
  void OnData(std::string_view bytes) {
    Status s = session_.Receive(bytes);
    Flush();  // ping echoes, replies
    if (!s.ok())
      Ended(MakeError(ErrorCode::kProtocol, "SPDY protocol error: " + s.error().message));
  }
  void OnEvent(const spdy::SessionEvent& e) {
    switch (e.kind) {
      case spdy::SessionEvent::Kind::kPingReply:
        keepalive_.OnPong();
        break;
      case spdy::SessionEvent::Kind::kProtocolError:
        Log(2, "SPDY session error: " + e.reason);
        break;
      default:
        break;
    }
  }
  void Ended(Status s) {
    if (closed_) return;
    closed_ = true;
    keepalive_.Stop();
    if (conn_) conn_->Close();
    if (callbacks_.on_closed) callbacks_.on_closed(std::move(s));
  }

  std::unique_ptr<TlsConnection> conn_;
  std::shared_ptr<ConnRouter> router_;
  spdy::SpdySession session_;
  std::string scratch_;  // an empty buffer with capacity, passed between session and conn
  std::string version_;
  SpdyKeepalive keepalive_;
  Callbacks callbacks_;
  bool closed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

FailureStage StageForDial(DialFailure f) {
  return f == DialFailure::kProxy ? FailureStage::kProxyDial : FailureStage::kDial;
}

class SpdyDial : public PendingDial {
 public:
  SpdyDial(EventLoop& loop, const UpgradeTarget& target, std::vector<std::string> versions,
           RefusalContext context, DialDone done)
      : loop_(loop),
        target_(target),
        versions_(std::move(versions)),
        context_(std::move(context)),
        done_(std::move(done)) {}
  ~SpdyDial() override { *alive_ = false; }

  void Start() {
    http::UpgradeRequestParams p;
    p.host = target_.dial.server.Authority();
    p.target = target_.path_and_query;
    p.user_agent = target_.user_agent;
    p.protocols = versions_;
    p.extra_headers = target_.headers;
    auto request = http::BuildSpdyUpgradeRequest(p);
    if (!request.ok()) {
      Fail(FailureStage::kDial, request.error());
      return;
    }
    request_ = std::move(*request);
    auto alive = alive_;
    router_->on_connected = [this, alive](Status s) {
      if (!*alive || s.ok()) return;
      if (conn_ && conn_->failure() == DialFailure::kAlpnH2) {
        RefusedResponse r;
        r.alpn_h2 = true;
        r.transport = Transport::kSpdy;
        Fail(FailureStage::kHandshake, s.error(), ClassifyRefusal(r, context_));
        return;
      }
      Fail(StageForDial(conn_ ? conn_->failure() : DialFailure::kTcp), s.error());
    };
    router_->on_data = [this, alive](std::string_view bytes) {
      if (*alive) OnData(bytes);
    };
    router_->on_closed = [this, alive](Status s) {
      if (!*alive) return;
      if (reused_ && !got_bytes_) {
        // The lookups' kept-alive connection was closed by the server before it saw (or
        // answered) the upgrade: nothing was acted on, so the request goes once more on a
        // fresh connection, as the lookup client itself does.
        Log(4, "the kept-alive connection was closed before the upgrade was answered; redialing");
        conn_->Close();
        conn_.reset();  // allowed from inside its own callback (tls_connection.h)
        Connect(false);
        return;
      }
      (void)parser_.FinishOnEof();
      if (parser_.done()) {
        OnResponse();
        return;
      }
      Fail(FailureStage::kHandshake,
           MakeError(ErrorCode::kUnavailable,
                     "the server closed the connection during the SPDY upgrade" +
                         (s.ok() ? std::string() : ": " + s.error().message)));
    };
    router_->on_drained = [] {};
    Connect(static_cast<bool>(target_.take_idle));
  }

 private:
  // Sends the upgrade on the handed-over idle connection when `reuse` and one matches, else on
  // a fresh one.
  void Connect(bool reuse) {
    auto router = router_;
    TlsConnection::Callbacks cb;
    cb.on_connected = [router](Status s) { router->on_connected(std::move(s)); };
    cb.on_data = [router](std::string_view b) { router->on_data(b); };
    cb.on_closed = [router](Status s) { router->on_closed(std::move(s)); };
    cb.on_drained = [router] { router->on_drained(); };
    reused_ = false;
    if (reuse) {
      conn_ = target_.take_idle(target_.dial, cb);
      reused_ = conn_ != nullptr;
    }
    if (!conn_) conn_ = TlsConnection::Dial(loop_, target_.dial, std::move(cb));
    if (conn_) conn_->Write(request_);
    if (reused_) Log(4, "the SPDY upgrade goes out on the lookups' kept-alive connection");
    Log(4, "SPDY upgrade request:\n" + request_);
  }

  void OnData(std::string_view bytes) {
    if (finished_) return;
    got_bytes_ = true;
    Status s = parser_.Feed(bytes);
    if (!s.ok()) {
      Fail(FailureStage::kHandshake, s.error());
      return;
    }
    if (parser_.done()) OnResponse();
  }

  void OnResponse() {
    if (finished_) return;
    const http::HttpResponse& r = parser_.response();
    Log(3, "SPDY upgrade answered " + std::to_string(r.status));
    if (r.status == 101) {
      auto chosen = http::ValidateSpdyUpgrade(r, versions_);
      if (!chosen.ok()) {
        Diagnosis d;
        d.kind = RefusalKind::kOther;
        d.code = ErrorCode::kUpgradeRejected;
        d.headline = "error: " + chosen.error().message;
        Fail(FailureStage::kHandshake, chosen.error(), d);
        return;
      }
      auto transport = std::make_unique<SpdyTransport>(loop_, std::move(conn_), router_, *chosen,
                                                       target_.keepalive, target_.dead_peer);
      Status st = transport->Start(parser_.TakeLeftover());
      if (!st.ok()) {
        Fail(FailureStage::kAfterUpgrade, st.error());
        return;
      }
      finished_ = true;
      auto done = std::move(done_);
      done(std::unique_ptr<StreamTransport>(std::move(transport)), AttemptFailure{});
      return;
    }
    RefusedResponse refused;
    refused.status = r.status;
    refused.headers = r.headers.fields();
    refused.body = r.body;
    refused.transport = Transport::kSpdy;
    Diagnosis d = ClassifyRefusal(refused, context_);
    Fail(FailureStage::kHandshake, MakeError(d.code, d.headline), d);
  }

  void Fail(FailureStage stage, Error error, Diagnosis d = {}) {
    if (finished_) return;
    finished_ = true;
    if (conn_) {
      conn_->Close();
      // Destroying the connection from inside its own callback is allowed (tls_connection.h).
      conn_.reset();
    }
    if (d.headline.empty()) d.headline = "error: " + error.message;
    auto done = std::move(done_);
    AttemptFailure failure{stage, error, std::move(d)};
    done(std::move(error), std::move(failure));
  }

  EventLoop& loop_;
  UpgradeTarget target_;
  std::vector<std::string> versions_;
  RefusalContext context_;
  DialDone done_;
  std::unique_ptr<TlsConnection> conn_;
  std::shared_ptr<ConnRouter> router_ = std::make_shared<ConnRouter>();
  http::HttpResponseParser parser_;
  std::string request_;
  bool reused_ = false;     // conn_ is the lookups' connection, not one we dialed
  bool got_bytes_ = false;  // any byte of the response arrived
  bool finished_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

std::unique_ptr<PendingDial> DialSpdy(EventLoop& loop, const UpgradeTarget& target,
                                      std::vector<std::string> versions,
                                      const RefusalContext& context, DialDone done) {
  auto dial =
      std::make_unique<SpdyDial>(loop, target, std::move(versions), context, std::move(done));
  dial->Start();
  return dial;
}

}  // namespace kproxy
