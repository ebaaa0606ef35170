#include "tests/sim/streaming/streaming_handler.h"

#include <memory>

#include "tests/sim/api/status.h"
#include "tests/sim/streaming/attach_hub.h"
#include "tests/sim/streaming/exec_server.h"
#include "tests/sim/streaming/portforward_server.h"

namespace kproxy::sim::streaming {

StreamingHandler MakeStreamingHandler(StreamingConfig config) {
  auto hub = std::make_shared<AttachHub>();
  return [hub, config](const StreamingRequest& r) -> HttpResponse {
    if (r.subresource == "portforward") return HandlePortForward(r, config);
    if (r.subresource == "exec" || r.subresource == "attach") {
      HttpResponse resp = HandleRemoteCommand(r, hub.get(), config);
      if (resp.takeover) {
        // Keep the hub alive for as long as the connection runs.
        resp.takeover = [hub, inner = std::move(resp.takeover)](Conn& c, std::string already) {
          inner(c, std::move(already));
        };
      }
      return resp;
    }
    return StatusResponse(404, "NotFound", "the server could not find the requested resource");
  };
}

}  // namespace kproxy::sim::streaming
