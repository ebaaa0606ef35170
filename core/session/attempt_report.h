// How a failed streaming attempt is told to the user and mapped to an error code — shared by
// the exec/attach and port-forward sessions so both explain refusals the same way.
#pragma once

#include <optional>
#include <ostream>

#include "core/session/stream_transport.h"

namespace kproxy {

// kubectl's error line and kproxy's explanation lines for one failed attempt.
void ReportAttempt(std::ostream& diag, const AttemptFailure& f);

// The final report when no protocol worked: a classified first refusal says more than the
// later failure (a silent fallback's refusal says less), so it leads when it exists.
void ReportFinalFailure(std::ostream& diag, const std::optional<AttemptFailure>& first,
                        const AttemptFailure& last, const char* last_protocol);

// The error code the session ends with after `last` failed.
ErrorCode FinalErrorCode(const AttemptFailure& last);

// Whether a refusal of this kind should be remembered as "this protocol was refused".
bool CountsAsRefused(RefusalKind kind);

}  // namespace kproxy
