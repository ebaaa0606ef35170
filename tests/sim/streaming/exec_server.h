// The exec and attach subresources after authentication, authorization and the upgrade faults
// (tests/sim/api): validates the query like the API server, negotiates the protocol
// (WebSocket subprotocol or SPDY X-Stream-Protocol-Version), and returns a response whose
// takeover writes the 101 and runs the session (exec_session.h) on the connection.
#pragma once

#include "tests/sim/api/api_server.h"
#include "tests/sim/streaming/attach_hub.h"
#include "tests/sim/streaming/streaming_config.h"

namespace kproxy::sim::streaming {

// Consumes an authorized exec/attach request; returns an error response (400 Status for a bad
// query, 400/403 text for SPDY negotiation, 403 for no common WebSocket protocol) or the
// upgrade. `hub` holds attach targets and must outlive the connection.
HttpResponse HandleRemoteCommand(const StreamingRequest& request, AttachHub* hub,
                                 const StreamingConfig& config);

// The container a request names: `container` query, else the only container; nullptr and an
// error response (the API server's 400 wording) otherwise.
const Container* ResolveContainer(const Pod& pod, const std::string& name, HttpResponse* error);

}  // namespace kproxy::sim::streaming
