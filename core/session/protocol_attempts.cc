#include "core/session/protocol_attempts.h"

#include <ostream>

#include "core/base/log.h"
#include "core/session/attempt_report.h"

namespace kproxy {

ProtocolAttempts::ProtocolAttempts(EventLoop& loop, UpgradeTarget& target, std::ostream& diag,
                                   ProtocolAttemptsOptions options, Callbacks callbacks)
    : loop_(loop),
      target_(target),
      diag_(diag),
      o_(std::move(options)),
      cb_(std::move(callbacks)) {}

void ProtocolAttempts::Dial() {
  if (index_ >= o_.order.size()) {
    cb_.on_finished(MakeError(ErrorCode::kUpgradeRejected, "no streaming protocol left to try"));
    return;
  }
  Log(1, std::string("trying ") + o_.name(current()));
  auto done = [this](Result<std::unique_ptr<StreamTransport>> r, AttemptFailure f) {
    if (r.ok()) {
      cb_.on_connected(std::move(*r));
    } else if (accepted_ && cb_.on_redial_failed) {
      cb_.on_redial_failed(std::move(f));
    } else {
      OnAttemptFailed(std::move(f));
    }
  };
  dial_ = cb_.dial(current(), target_, std::move(done));
}

void ProtocolAttempts::DialNext() {
  ++index_;
  loop_.Post([this] { Dial(); });
}

void ProtocolAttempts::Redial() {
  loop_.Post([this] { Dial(); });
}

void ProtocolAttempts::CancelDial() { dial_.reset(); }

void ProtocolAttempts::Accept(StreamProtocol kind) {
  accepted_ = true;
  Remember(kind);
  if (!hint_.empty()) diag_ << hint_ << "\n" << std::flush;
}

Status ProtocolAttempts::Reauthenticate() {
  reauthenticated_ = true;
  auto headers = o_.reauthenticate();
  if (!headers.ok()) return headers.error();
  target_.headers = std::move(*headers);
  return Status::Ok();
}

void ProtocolAttempts::OnAttemptFailed(AttemptFailure f) {
  FallbackDecision d =
      DecideAfterFailure(current(), f.stage, f.diagnosis, reauthenticated_, next_left());
  Log(1, std::string(o_.name(current())) + " attempt failed (" + RefusalKindName(f.diagnosis.kind) +
             "): " + d.reason);
  switch (d.step) {
    case NextStep::kReauthenticateAndRetry: {
      if (!o_.reauthenticate) break;
      Status s = Reauthenticate();
      if (!s.ok()) {
        ReportAttempt(diag_, f);
        diag_ << "error: " << s.error().message << "\n";
        cb_.on_finished(MakeError(s.error().code, ""));
        return;
      }
      Redial();
      return;
    }
    case NextStep::kFallbackWithHint:
      hint_ = d.hint;
      [[fallthrough]];
    case NextStep::kFallback:
      if (CountsAsRefused(f.diagnosis.kind)) refused_ = current();
      first_failure_ = std::move(f);
      DialNext();
      return;
    case NextStep::kReport:
      break;
  }
  GiveUp(f);
}

void ProtocolAttempts::GiveUp(const AttemptFailure& last) {
  // Refused by every planned protocol in a way that would fall back: the session may still
  // have another way in.
  if (cb_.on_all_refused && last.stage == FailureStage::kHandshake) {
    FallbackDecision d = DecideAfterFailure(current(), last.stage, last.diagnosis, reauthenticated_,
                                            /*other_protocol_left=*/true);
    if (d.step == NextStep::kFallback || d.step == NextStep::kFallbackWithHint) {
      cb_.on_all_refused();
      return;
    }
  }
  Remember(std::nullopt);
  ReportFinalFailure(diag_, first_failure_, last, o_.name(current()));
  cb_.on_finished(MakeError(FinalErrorCode(last), ""));
}

void ProtocolAttempts::Remember(std::optional<StreamProtocol> good) {
  if (!o_.memory || o_.memory_server.empty()) return;
  RememberedOutcome r;
  r.good = good;
  r.refused = refused_;
  r.at = o_.now_seconds ? o_.now_seconds() : 0;
  if (r.good || r.refused) o_.memory->Record(o_.memory_server, o_.memory_kind, r);
}

}  // namespace kproxy
