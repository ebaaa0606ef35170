#include "core/session/exec_session.h"

#include <csignal>
#include <optional>
#include <ostream>

#include "core/base/log.h"
#include "core/remotecommand/protocol_version.h"
#include "core/remotecommand/stream_protocol.h"
#include "core/session/protocol_attempts.h"
#include "core/terminal/raw_mode.h"
#include "core/terminal/relay.h"
#include "core/terminal/terminal_signals.h"
#include "core/terminal/tty.h"

namespace kproxy {
namespace {

const std::vector<std::string> kWebSocketProtocols = {"v5.channel.k8s.io", "v4.channel.k8s.io"};
// kubectl offers these over SPDY (v5 too, but servers never pick it over SPDY).
const std::vector<std::string> kSpdyVersions = {"v4.channel.k8s.io", "v3.channel.k8s.io",
                                                "v2.channel.k8s.io", "channel.k8s.io"};

class ExecRun {
 public:
  ExecRun(EventLoop& loop, ExecSessionOptions options, std::ostream& diag)
      : loop_(loop),
        o_(std::move(options)),
        diag_(diag),
        attempts_(loop_, o_.target, diag_, AttemptsOptionsFrom(o_, "exec", StreamProtocolName),
                  AttemptCallbacks()) {}

  Result<ExecOutcome> Run() {
    Log(1, "protocol plan: " + o_.plan_reason);
    if (o_.raw_terminal) {
      auto guard = RawModeGuard::Enter(o_.in_fd);
      if (guard.ok()) guard_.emplace(std::move(*guard));
    }
    TerminalSignalHandlers handlers;
    handlers.on_resize = [this](WindowSize size) { Resize(size); };
    handlers.on_terminate = [this](int signo) {
      Log(1, "signal " + std::to_string(signo) + ": ending the session");
      Finish(MakeError(ErrorCode::kCancelled, ""));
    };
    auto signals = TerminalSignals::Install(loop_, guard_ ? &*guard_ : nullptr,
                                            o_.streams.tty ? o_.in_fd : -1, std::move(handlers));
    if (signals.ok()) signals_ = std::move(*signals);
    attempts_.Dial();
    loop_.Run();
    // Tear down in dependency order before the loop's objects go away.
    protocol_.reset();
    if (transport_) transport_->Close();
    relay_.reset();
    transport_.reset();
    attempts_.CancelDial();
    signals_.reset();
    if (guard_) guard_->Restore();
    if (!result_) return MakeError(ErrorCode::kInternal, "session ended without a result");
    return *result_;
  }

 private:
  ProtocolAttempts::Callbacks AttemptCallbacks() {
    ProtocolAttempts::Callbacks cb;
    cb.dial = [this](StreamProtocol p, const UpgradeTarget& target, DialDone done) {
      if (p == StreamProtocol::kWebSocket)
        return DialWebSocket(loop_, target, kWebSocketProtocols, o_.context, std::move(done));
      return DialSpdy(loop_, target, kSpdyVersions, o_.context, std::move(done));
    };
    cb.on_connected = [this](std::unique_ptr<StreamTransport> t) { OnConnected(std::move(t)); };
    cb.on_finished = [this](Error e) { Finish(std::move(e)); };
    return cb;
  }

  void OnConnected(std::unique_ptr<StreamTransport> t) {
    transport_ = std::move(t);
    Log(1, std::string("connected over ") + StreamProtocolName(transport_->kind()) + " with " +
               transport_->negotiated());
    auto negotiated = remotecommand::ParseProtocolName(transport_->negotiated());
    if (!negotiated.ok()) {
      diag_ << "error: unsupported protocol " << transport_->negotiated() << "\n";
      Finish(MakeError(ErrorCode::kProtocol, ""));
      return;
    }
    // WebSocket v4 cannot half-close stdin: a piped stdin that ends would leave the remote
    // command waiting. Prefer SPDY then, before any stdin byte was read.
    bool needs_half_close = o_.streams.stdin && !o_.streams.tty;
    if (transport_->kind() == StreamProtocol::kWebSocket &&
        negotiated->version != remotecommand::ProtocolVersion::kV5 && needs_half_close &&
        attempts_.next_left()) {
      Log(1, "server chose " + transport_->negotiated() +
                 " (no stdin half-close) for a piped stdin: switching to SPDY");
      transport_->Close();
      transport_.reset();
      attempts_.DialNext();
      return;
    }
    protocol_name_ = transport_->negotiated();
    attempts_.Accept(transport_->kind());

    StreamTransport::Callbacks tcb;
    tcb.on_closed = [this](Status s) {
      if (!s.ok() && protocol_ && !protocol_->done()) protocol_->Abort(s.error());
    };
    tcb.on_drained = [this] {
      if (relay_) relay_->ResumeCheck();
    };
    transport_->SetCallbacks(std::move(tcb));

    remotecommand::ExecCallbacks cb;
    cb.on_ready = [this] { OnReady(); };
    cb.on_stdout = [this](std::string_view b) { Output(b, false); };
    cb.on_stderr = [this](std::string_view b) { Output(b, true); };
    cb.on_done = [this](Result<remotecommand::ExecResult> r) { OnDone(std::move(r)); };
    protocol_ = remotecommand::NewStreamProtocol(negotiated->version, transport_->connection(),
                                                 o_.streams, std::move(cb));
    protocol_->Start();
    transport_->Flush();
  }

  void OnReady() {
    RelayOptions ro;
    ro.in_fd = o_.streams.stdin ? o_.in_fd : -1;
    ro.out_fd = o_.out_fd;
    ro.err_fd = o_.err_fd;
    RelayCallbacks rc;
    rc.on_input = [this](std::string_view b) {
      if (protocol_) protocol_->WriteStdin(b);
      if (transport_) transport_->Flush();
    };
    rc.on_input_eof = [this] {
      if (protocol_) protocol_->CloseStdin();
      if (transport_) transport_->Flush();
    };
    rc.transport_buffered = [this] { return transport_ ? transport_->BufferedBytes() : 0; };
    rc.on_output_drained = [this] {
      if (transport_) transport_->SetReading(true);
    };
    rc.on_output_error = [this](Error e) {
      if (protocol_ && !protocol_->done()) protocol_->Abort(e);
    };
    relay_ = std::make_unique<Relay>(loop_, ro, std::move(rc));
    relay_->Start();
    if (o_.streams.tty) {
      if (auto size = GetWindowSize(o_.in_fd)) {
        if (o_.attach) Resize(WindowSize{uint16_t(size->width + 1), uint16_t(size->height + 1)});
        Resize(*size);
      }
    }
  }

  void Resize(WindowSize size) {
    if (!protocol_ || !o_.streams.tty) return;
    protocol_->Resize(size.width, size.height);
    if (transport_) transport_->Flush();
  }

  void Output(std::string_view bytes, bool is_err) {
    if (!relay_) return;
    if (is_err) {
      relay_->WriteErr(bytes);
    } else {
      relay_->WriteOut(bytes);
    }
    if (relay_->OutputBlocked() && transport_) transport_->SetReading(false);
  }

  void OnDone(Result<remotecommand::ExecResult> r) {
    if (relay_) relay_->StopInput();
    if (r.ok()) {
      ExecOutcome out;
      out.exit_code = r->exit_code;
      out.protocol = protocol_name_;
      if (!r->message.empty()) pending_message_ = r->message;
      DrainThen(Result<ExecOutcome>(out));
    } else {
      const Error& e = r.error();
      pending_message_ =
          e.message.rfind("Error from server", 0) == 0 || e.message.rfind("error: ", 0) == 0
              ? e.message
              : "error: " + e.message;
      DrainThen(Result<ExecOutcome>(MakeError(e.code, "")));
    }
  }

  // Output is flushed to the local descriptors before the result is delivered.
  void DrainThen(Result<ExecOutcome> r) {
    if (result_) return;
    result_.emplace(std::move(r));
    drain_deadline_ = loop_.Now() + std::chrono::seconds(30);
    CheckDrained();
  }
  void CheckDrained() {
    if (!relay_ || relay_->PendingOutput() == 0 || loop_.Now() > drain_deadline_) {
      if (guard_) guard_->Restore();
      if (!pending_message_.empty()) diag_ << pending_message_ << "\n" << std::flush;
      loop_.Stop();
      return;
    }
    loop_.AddTimer(std::chrono::milliseconds(5), [this] { CheckDrained(); });
  }

  void Finish(Error e) {
    if (result_) return;
    result_.emplace(std::move(e));
    if (protocol_ && !protocol_->done()) protocol_->Abort(MakeError(ErrorCode::kCancelled, ""));
    loop_.Stop();
  }

  EventLoop& loop_;
  ExecSessionOptions o_;
  std::ostream& diag_;
  ProtocolAttempts attempts_;
  std::unique_ptr<StreamTransport> transport_;
  std::unique_ptr<remotecommand::StreamProtocol> protocol_;
  std::unique_ptr<Relay> relay_;
  std::optional<RawModeGuard> guard_;
  std::unique_ptr<TerminalSignals> signals_;
  std::optional<Result<ExecOutcome>> result_;
  std::string protocol_name_;
  std::string pending_message_;
  EventLoop::Clock::time_point drain_deadline_;
};

}  // namespace

Result<ExecOutcome> RunExecSession(EventLoop& loop, ExecSessionOptions options,
                                   std::ostream& diag) {
  ExecRun run(loop, std::move(options), diag);
  return run.Run();
}

}  // namespace kproxy
