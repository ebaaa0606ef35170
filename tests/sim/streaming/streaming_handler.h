// The simulator's streaming layer as one ApiServer::StreamingHandler: exec and attach
// (exec_server.h) and portforward (portforward_server.h). Owns the attach targets, which live
// as long as the returned handler (and the connections it took over) do.
#pragma once

#include "tests/sim/api/api_server.h"
#include "tests/sim/streaming/streaming_config.h"

namespace kproxy::sim::streaming {

// Returns the handler to pass to ApiServer::set_streaming_handler.
StreamingHandler MakeStreamingHandler(StreamingConfig config);

}  // namespace kproxy::sim::streaming
