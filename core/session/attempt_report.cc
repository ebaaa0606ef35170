#include "core/session/attempt_report.h"

namespace kproxy {

void ReportAttempt(std::ostream& diag, const AttemptFailure& f) {
  if (f.stage == FailureStage::kHandshake && !f.diagnosis.headline.empty()) {
    diag << f.diagnosis.headline << "\n";
    for (const auto& line : f.diagnosis.explanation) diag << "kproxy: " << line << "\n";
  } else {
    diag << "error: " << f.error.message << "\n";
  }
  diag << std::flush;
}

void ReportFinalFailure(std::ostream& diag, const std::optional<AttemptFailure>& first,
                        const AttemptFailure& last, const char* last_protocol) {
  if (first && first->diagnosis.kind != RefusalKind::kUpgradeRefused &&
      first->diagnosis.kind != RefusalKind::kOther && !first->diagnosis.headline.empty()) {
    ReportAttempt(diag, *first);
    diag << "kproxy: the " << last_protocol << " attempt failed too: " << last.diagnosis.headline
         << "\n"
         << std::flush;
  } else {
    ReportAttempt(diag, last);
  }
}

ErrorCode FinalErrorCode(const AttemptFailure& last) {
  if (last.stage != FailureStage::kHandshake || last.diagnosis.headline.empty())
    return last.error.code;
  return last.diagnosis.code;
}

bool CountsAsRefused(RefusalKind kind) {
  return kind == RefusalKind::kUpgradeRefused || kind == RefusalKind::kOther ||
         kind == RefusalKind::kRbac;
}

}  // namespace kproxy
