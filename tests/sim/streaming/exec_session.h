// One exec or attach session over any ServerTransport (WebSocket channels or SPDY), the
// kubelet's remotecommand server: collect exactly the streams the query promised (SPDY: wait
// up to 30 s for the client to create them; WebSocket: open ours and send the 1-byte marker),
// then copy stdin → process, process stdout/stderr → streams, resize → TIOCSWINSZ, stdin
// half-close → EOF, and at the end write the Status on the error stream and end the session.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/remotecommand/protocol_version.h"
#include "core/remotecommand/stream_options.h"
#include "tests/sim/server/conn.h"
#include "tests/sim/streaming/attach_hub.h"
#include "tests/sim/streaming/process.h"
#include "tests/sim/streaming/server_transport.h"

namespace kproxy::sim::streaming {

struct ExecParams {
  bool websocket = false;
  remotecommand::ProtocolVersion version = remotecommand::ProtocolVersion::kV4;
  remotecommand::StreamOptions options;
  // exec: the command to run (spec.argv) with the fixture's directory/env.
  ProcessSpec spec;
  // attach: the target to attach to instead of starting spec (nullptr for exec).
  std::shared_ptr<AttachTarget> attach;
  // How long the client may take to create its streams (kubelet: 30 s).
  std::chrono::milliseconds stream_timeout{30000};
  // Reads from the client stop while this much stdin waits for the process.
  size_t max_pending_stdin = 1 << 20;
};

struct ExecOutcome {
  bool streams_complete = false;  // the promised streams all arrived
  std::optional<int> exit_code;   // the process's exit code, when it ran to the end
  bool status_written = false;    // the Status went out on the error stream
  std::string error;              // why the session ended early
};

// Runs the session on `conn` (after the 101 was written) until the process ended and the
// status was sent, the client went away, or the streams did not arrive in time. Consumes the
// transport; `already_read` holds the upgraded protocol's first bytes. Kills the process on
// every path.
ExecOutcome RunExecSession(Conn& conn, ServerTransport& transport, const std::string& already_read,
                           ExecParams params);

// Parses the resize stream's JSON objects ({"Width":W,"Height":H}, newline-separated, possibly
// split): consumes `bytes` into `buffer` and returns every complete size, in order. Malformed
// objects are skipped, as the kubelet logs and ignores them.
std::vector<std::pair<uint16_t, uint16_t>> ParseResizeEvents(std::string* buffer,
                                                             std::string_view bytes);

}  // namespace kproxy::sim::streaming
