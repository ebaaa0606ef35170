// The protocol-fallback loop of protocols.md §4, once for the exec/attach and port-forward
// sessions: dial the planned protocols in order; after a failed attempt classify it
// (DecideAfterFailure) and re-authenticate once after a 401, fall back (with the hint for the
// WebSocket-get / SPDY-create asymmetry) or report; remember in ProtocolMemory which protocol
// worked and which was refused. The only place a session writes the protocol memory.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/base/result.h"
#include "core/negotiate/fallback_policy.h"
#include "core/negotiate/protocol_memory.h"
#include "core/session/stream_transport.h"
#include "core/transport/event_loop.h"

namespace kproxy {

using UpgradeHeaders = std::vector<std::pair<std::string, std::string>>;

struct ProtocolAttemptsOptions {
  std::vector<StreamProtocol> order;  // from PlanProtocols
  // The protocol's name in -v lines and reports ("websocket", "WebSocket tunnel", ...).
  const char* (*name)(StreamProtocol) = StreamProtocolName;
  // Where outcomes are remembered (memory may be null: nothing is written).
  ProtocolMemory* memory = nullptr;
  std::string memory_server;
  std::string memory_kind;  // "exec" | "portforward"
  std::function<int64_t()> now_seconds;
  // Refreshes credentials after a 401: the new upgrade headers, or an error. May be empty.
  std::function<Result<UpgradeHeaders>()> reauthenticate;
};

// The attempt settings of a session's options (ExecSessionOptions, PortForwardSessionOptions).
template <typename SessionOptions>
ProtocolAttemptsOptions AttemptsOptionsFrom(const SessionOptions& o, std::string memory_kind,
                                            const char* (*name)(StreamProtocol)) {
  ProtocolAttemptsOptions a;
  a.order = o.order;
  a.name = name;
  a.memory = o.memory;
  a.memory_server = o.memory_server;
  a.memory_kind = std::move(memory_kind);
  a.now_seconds = o.now_seconds;
  a.reauthenticate = o.reauthenticate;
  return a;
}

class ProtocolAttempts {
 public:
  // Starts one attempt at `protocol` toward `target`; `done` runs once, on the loop.
  using DialFunction = std::function<std::unique_ptr<PendingDial>(
      StreamProtocol protocol, const UpgradeTarget& target, DialDone done)>;

  struct Callbacks {
    DialFunction dial;
    // An attempt produced a transport (call Accept() once it is the one the session keeps).
    std::function<void(std::unique_ptr<StreamTransport>)> on_connected;
    // The session must end with this error; what went wrong was already written to `diag`.
    std::function<void(Error)> on_finished;
    // Optional: an attempt after Accept() failed (a re-dial of the accepted protocol). The
    // fallback was decided at the start and is not decided again.
    std::function<void(AttemptFailure)> on_redial_failed;
    // Optional: the last planned protocol was refused at the handshake in a way that would have
    // fallen back had another been left. Called instead of the final report (port-forward's
    // legacy WebSocket form); nothing is remembered then.
    std::function<void()> on_all_refused;
  };

  // `target` is the session's: a re-authentication replaces its headers. `diag` gets the
  // reports (stderr). The callbacks run on `loop`.
  ProtocolAttempts(EventLoop& loop, UpgradeTarget& target, std::ostream& diag,
                   ProtocolAttemptsOptions options, Callbacks callbacks);

  // Dials the current protocol (the first, the next after a fallback, or the accepted one again
  // for a re-dial); with none left ends the session (kUpgradeRejected).
  void Dial();
  // Gives up the current protocol without a failure (e.g. a transport the session does not
  // want) and dials the next one from the loop.
  void DialNext();
  // Re-dials the current protocol from the loop.
  void Redial();
  // Cancels a dial in progress (or drops the finished one).
  void CancelDial();

  StreamProtocol current() const { return o_.order[index_]; }
  bool next_left() const { return index_ + 1 < o_.order.size(); }
  bool accepted() const { return accepted_; }

  // The session keeps a transport of `kind`: remembers it (with any refused protocol) and
  // prints the fallback hint, if there is one. Later failures go to on_redial_failed.
  void Accept(StreamProtocol kind);

  // Whether credentials can still be refreshed in this session (once, after a 401).
  bool can_reauthenticate() const { return o_.reauthenticate && !reauthenticated_; }
  // Refreshes the credentials into the target's headers (counts as the one refresh).
  Status Reauthenticate();

 private:
  void OnAttemptFailed(AttemptFailure f);
  void GiveUp(const AttemptFailure& last);
  void Remember(std::optional<StreamProtocol> good);

  EventLoop& loop_;
  UpgradeTarget& target_;
  std::ostream& diag_;
  ProtocolAttemptsOptions o_;
  Callbacks cb_;
  size_t index_ = 0;
  bool reauthenticated_ = false;
  bool accepted_ = false;
  std::optional<StreamProtocol> refused_;
  std::optional<AttemptFailure> first_failure_;
  std::string hint_;
  std::unique_ptr<PendingDial> dial_;
};

}  // namespace kproxy
