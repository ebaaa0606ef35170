// One exec or attach session from dial to exit code: tries the planned protocols in order
// with the fallback predicate, remembers what worked, runs remotecommand over the chosen
// transport, and relays the local terminal (raw mode, resize, signals, back-pressure).
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/diagnose/refusal.h"
#include "core/negotiate/fallback_policy.h"
#include "core/negotiate/protocol_memory.h"
#include "core/remotecommand/stream_options.h"
#include "core/session/stream_transport.h"
#include "core/transport/event_loop.h"

namespace kproxy {

struct ExecSessionOptions {
  UpgradeTarget target;  // path_and_query already built for exec or attach
  remotecommand::StreamOptions streams;
  bool attach = false;                // attach primes the resize with W+1,H+1 then W,H
  std::vector<StreamProtocol> order;  // from PlanProtocols
  std::string plan_reason;            // for -v
  RefusalContext context;             // names for the diagnostics
  // Local descriptors (-1 = not used).
  int in_fd = 0, out_fd = 1, err_fd = 2;
  bool raw_terminal = false;  // put in_fd into raw mode (tty sessions on a terminal)
  // Per-cluster protocol memory (may be null) and its key.
  ProtocolMemory* memory = nullptr;
  std::string memory_server;
  std::function<int64_t()> now_seconds;  // clock for the memory
  // Refreshes credentials after a 401; returns the new request headers or an error.
  std::function<Result<std::vector<std::pair<std::string, std::string>>>()> reauthenticate;
};

// The outcome: the remote exit code, or an error already explained on `diag` (stderr).
struct ExecOutcome {
  int exit_code = 0;
  std::string protocol;  // negotiated protocol name, for -v and tests
};

// Runs the session on `loop`. Diagnostics (kubectl's error line, kproxy's explanation, the
// fallback hint) go to `diag`. Returns the remote exit code, or an Error whose code the CLI
// maps to an exit status (the message was already printed when `printed` is set).
Result<ExecOutcome> RunExecSession(EventLoop& loop, ExecSessionOptions options, std::ostream& diag);

}  // namespace kproxy
