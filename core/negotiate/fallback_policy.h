// The fallback predicate (protocols.md §4): after a failed attempt on one streaming protocol,
// decide whether to re-authenticate, try the other protocol, or report. Pure and unit-tested.
#pragma once

#include <string>
#include <vector>

#include "core/diagnose/refusal.h"

namespace kproxy {

enum class StreamProtocol { kWebSocket, kSpdy };
const char* StreamProtocolName(StreamProtocol p);

enum class FailureStage {
  kDial,          // DNS, TCP, TLS: kubectl never retries these
  kProxyDial,     // the HTTPS proxy's CONNECT failed: kubectl falls back
  kHandshake,     // a non-101, or a 101 with a missing/unexpected subprotocol
  kAfterUpgrade,  // anything after a good 101: never retried (stdin may be consumed)
};

enum class NextStep { kReport, kFallback, kFallbackWithHint, kReauthenticateAndRetry };

struct FallbackDecision {
  NextStep step = NextStep::kReport;
  std::string reason;  // shown with -v
  std::string hint;    // shown to the user when the fallback worked (kFallbackWithHint)
};

// `diagnosis` is the classified refusal for kHandshake failures (ignored otherwise).
FallbackDecision DecideAfterFailure(StreamProtocol attempted, FailureStage stage,
                                    const Diagnosis& diagnosis, bool already_reauthenticated,
                                    bool other_protocol_left);

// The order to try protocols in, from --protocol, kubectl's environment switch and the
// remembered outcome for this cluster. `reason` says why, for -v.
struct ProtocolPlan {
  std::vector<StreamProtocol> order;
  std::string reason;
};
// flag: "auto" | "websocket" | "spdy". websockets_env: the value of
// KUBECTL_REMOTE_COMMAND_WEBSOCKETS (exec/attach) or KUBECTL_PORT_FORWARD_WEBSOCKETS
// (port-forward), "" when unset. remembered: the protocol that worked last time, if any.
ProtocolPlan PlanProtocols(const std::string& flag, const std::string& websockets_env,
                           const StreamProtocol* remembered_good,
                           const StreamProtocol* remembered_refused);

}  // namespace kproxy
