// Adapts the HTTP/1.1 response parser (core/transport/http_response_parser) to the
// ResponseReader interface the WebSocket client uses to capture a refused upgrade's body.
#pragma once

#include "core/transport/refusal_capture.h"

namespace kproxy {

ResponseReaderFactory MakeRefusalReaderFactory();

}  // namespace kproxy
