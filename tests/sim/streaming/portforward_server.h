// The portforward subresource after authentication, authorization and the upgrade faults:
// chooses the transport — SPDY/3.1 `portforward.k8s.io`, the WebSocket tunnel
// (`SPDY/3.1+portforward.k8s.io`, API server ≥ 1.30; a pre-1.30 server — the no-v5 fault —
// answers it with 400), or legacy WebSocket channels (`v4.channel.k8s.io` with ?ports=) — and
// returns the response whose takeover runs the session (portforward_session.h).
#pragma once

#include <string>
#include <vector>

#include "tests/sim/api/api_server.h"
#include "tests/sim/streaming/streaming_config.h"

namespace kproxy::sim::streaming {

inline constexpr const char* kTunnelProtocol = "SPDY/3.1+portforward.k8s.io";

// Consumes an authorized portforward request; returns an error response or the upgrade.
HttpResponse HandlePortForward(const StreamingRequest& request, const StreamingConfig& config);

// The ports of a legacy WebSocket request: every `ports` value (the API server's name) and
// `port` value (the kubelet's), comma lists allowed. False with `error` on a bad number.
bool ParsePortsQuery(const std::vector<std::pair<std::string, std::string>>& query,
                     std::vector<uint16_t>* ports, std::string* error);

}  // namespace kproxy::sim::streaming
