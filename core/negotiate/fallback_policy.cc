#include "core/negotiate/fallback_policy.h"

#include <strings.h>

namespace kproxy {

const char* StreamProtocolName(StreamProtocol p) {
  return p == StreamProtocol::kWebSocket ? "websocket" : "spdy";
}

FallbackDecision DecideAfterFailure(StreamProtocol attempted, FailureStage stage,
                                    const Diagnosis& d, bool already_reauthenticated,
                                    bool other_protocol_left) {
  FallbackDecision out;
  const std::string name = StreamProtocolName(attempted);
  switch (stage) {
    case FailureStage::kDial:
      out.reason = name + " connection failed before any HTTP exchange; not retried";
      return out;
    case FailureStage::kAfterUpgrade:
      out.reason = name + " session failed after the upgrade; not retried";
      return out;
    case FailureStage::kProxyDial:
      out.step = other_protocol_left ? NextStep::kFallback : NextStep::kReport;
      out.reason = "proxy dial failed for " + name;
      return out;
    case FailureStage::kHandshake:
      break;
  }
  auto fallback = [&](NextStep step, std::string reason) {
    out.step = other_protocol_left ? step : NextStep::kReport;
    out.reason = std::move(reason);
  };
  switch (d.kind) {
    case RefusalKind::kUnauthenticated:
      out.step = already_reauthenticated ? NextStep::kReport : NextStep::kReauthenticateAndRetry;
      out.reason = already_reauthenticated
                       ? "still unauthenticated after a fresh login"
                       : "session rejected: re-authenticate and retry " + name + " once";
      return out;
    case RefusalKind::kRbac:
      // The WebSocket GET is authorized as "get", the SPDY POST as "create": a get-only
      // denial over WebSocket may pass over SPDY.
      if (attempted == StreamProtocol::kWebSocket && strcasecmp(d.verb.c_str(), "get") == 0) {
        fallback(NextStep::kFallbackWithHint,
                 "RBAC denied \"get\" on the WebSocket upgrade; SPDY is authorized as "
                 "\"create\", trying it");
        out.hint = "note: RBAC allows \"create\" but not \"get\" on " + d.resource +
                   "; WebSocket sessions need \"get\" (kubectl 1.30+ uses WebSocket).";
        return out;
      }
      out.reason = "RBAC denial; the other protocol would fail the same way";
      return out;
    case RefusalKind::kUpgradeRefused:
      fallback(NextStep::kFallback, name + " upgrade refused with an empty 403");
      return out;
    case RefusalKind::kUpgradeStripped:
      fallback(NextStep::kFallback, "Upgrade header stripped on the " + name + " request");
      return out;
    case RefusalKind::kOther:
      fallback(NextStep::kFallback, name + " handshake failed: " + d.headline);
      return out;
    case RefusalKind::kProxyPolicy:
    case RefusalKind::kImpersonationDenied:
    case RefusalKind::kHttp2Only:
    case RefusalKind::kDeviceIdentity:
    case RefusalKind::kClientCertRequired:
    case RefusalKind::kNotFound:
      out.reason = std::string(RefusalKindName(d.kind)) +
                   ": the other protocol would be refused the same way";
      return out;
  }
  return out;
}

ProtocolPlan PlanProtocols(const std::string& flag, const std::string& websockets_env,
                           const StreamProtocol* remembered_good,
                           const StreamProtocol* remembered_refused) {
  ProtocolPlan plan;
  if (flag == "websocket") {
    plan.order = {StreamProtocol::kWebSocket};
    plan.reason = "--protocol=websocket";
    return plan;
  }
  if (flag == "spdy") {
    plan.order = {StreamProtocol::kSpdy};
    plan.reason = "--protocol=spdy";
    return plan;
  }
  if (strcasecmp(websockets_env.c_str(), "false") == 0) {
    plan.order = {StreamProtocol::kSpdy};
    plan.reason = "WebSockets disabled by the environment (=false)";
    return plan;
  }
  if (remembered_good && *remembered_good == StreamProtocol::kSpdy) {
    plan.order = {StreamProtocol::kSpdy, StreamProtocol::kWebSocket};
    plan.reason = "SPDY worked last time for this cluster";
    return plan;
  }
  if (!remembered_good && remembered_refused && *remembered_refused == StreamProtocol::kWebSocket) {
    plan.order = {StreamProtocol::kSpdy, StreamProtocol::kWebSocket};
    plan.reason = "WebSocket was refused last time for this cluster";
    return plan;
  }
  plan.order = {StreamProtocol::kWebSocket, StreamProtocol::kSpdy};
  plan.reason = remembered_good ? "WebSocket worked last time for this cluster"
                                : "default: WebSocket first, SPDY on fallback";
  return plan;
}

}  // namespace kproxy
