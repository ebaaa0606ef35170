#include "core/session/ws_dial.h"

#include <utility>

#include "core/base/log.h"
#include "core/session/response_reader.h"

namespace kproxy {

WsClientOptions WsClientOptionsFor(const UpgradeTarget& target,
                                   std::vector<std::string> subprotocols) {
  WsClientOptions o;
  o.target = target.dial;
  o.path_and_query = target.path_and_query;
  o.subprotocols = std::move(subprotocols);
  o.headers = target.headers;
  o.headers.emplace_back("User-Agent", target.user_agent);
  o.ping_interval = target.keepalive;
  o.pong_timeout = target.dead_peer;
  o.refusal_reader = MakeRefusalReaderFactory();
  return o;
}

namespace {

class WsDial : public PendingDial {
 public:
  WsDial(EventLoop& loop, const UpgradeTarget& target, WsDialSpec spec, RefusalContext context,
         DialDone done)
      : loop_(loop),
        target_(target),
        spec_(std::move(spec)),
        context_(std::move(context)),
        done_(std::move(done)) {}
  ~WsDial() override { *alive_ = false; }

  void Start() {
    WsClientOptions o = WsClientOptionsFor(target_, spec_.subprotocols);
    o.ping_interval = spec_.ping_interval;
    o.pong_timeout = spec_.pong_timeout;
    o.byte_stream = spec_.byte_stream;
    auto alive = alive_;
    auto slot = slot_;
    WsClient::Callbacks cb;
    cb.on_open = [this, alive](const std::string& subprotocol) {
      if (*alive) OnOpen(subprotocol);
    };
    cb.on_failed = [this, alive](const WsConnectFailure& f) {
      if (*alive) OnFailed(f);
    };
    cb.on_message = [slot](std::string_view m, bool binary) {
      if (WsClientSink* s = slot->sink()) s->OnMessage(m, binary);
    };
    cb.on_closed = [slot](Status s) {
      if (WsClientSink* sink = slot->sink()) sink->OnClosed(std::move(s));
    };
    cb.on_drained = [slot] {
      if (WsClientSink* s = slot->sink()) s->OnDrained();
    };
    client_ = WsClient::Connect(loop_, std::move(o), std::move(cb));
  }

 private:
  void OnOpen(const std::string& subprotocol) {
    Log(3, spec_.what + " accepted with subprotocol " + subprotocol);
    std::unique_ptr<StreamTransport> transport = spec_.make(subprotocol, client_, slot_);
    if (!transport) {
      Diagnosis d;
      d.kind = RefusalKind::kOther;
      d.code = ErrorCode::kUpgradeRejected;
      d.headline = "error: the server chose an unknown subprotocol \"" + subprotocol + "\"";
      Finish(FailureStage::kHandshake, MakeError(d.code, d.headline), d);
      return;
    }
    finished_ = true;
    auto done = std::move(done_);
    done(std::move(transport), AttemptFailure{});
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
  WsDialSpec spec_;
  RefusalContext context_;
  DialDone done_;
  std::unique_ptr<WsClient> client_;
  std::shared_ptr<WsSinkSlot> slot_ = std::make_shared<WsSinkSlot>();
  bool finished_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

std::unique_ptr<PendingDial> DialWsClient(EventLoop& loop, const UpgradeTarget& target,
                                          WsDialSpec spec, const RefusalContext& context,
                                          DialDone done) {
  auto dial = std::make_unique<WsDial>(loop, target, std::move(spec), context, std::move(done));
  dial->Start();
  return dial;
}

}  // namespace kproxy
