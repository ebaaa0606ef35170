// Fault modes of the simulator (--fault=...), reproducing what kproxy meets in the field.
// The HTTP/API layer applies the ones that concern it; the streaming layer reads the rest
// (no_v5, slow_reader, rbac_ws_get/rbac_both through AuthorizeStreaming).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"

namespace kproxy::sim {

struct Faults {
  bool ws_forbidden = false;   // WebSocket upgrade → 403 with an empty body
  bool no_v5 = false;          // pre-1.30 server: v5.channel.k8s.io unknown (streaming layer)
  bool strip_upgrade = false;  // an intermediary removed Upgrade: 400 "Upgrade request required"
  bool rbac_ws_get = false;    // RBAC 403 only for the WebSocket GET (verb get)
  bool rbac_both = false;      // RBAC 403 for both GET and POST upgrades
  bool h2_only = false;        // ALPN selects h2 (an HTTP/2-only front end)
  bool expired = false;        // every token is refused with 401
  uint64_t drop_after = 0;     // >0: drop each connection after this many bytes written
  int delay_ms = 0;            // >0: delay every response head by this much
  bool slow_reader = false;    // read at most a small chunk per pause (back-pressure tests)
};

// Parses one --fault value ("no-v5", "drop-after=100", ...) into `faults`.
Status ApplyFault(std::string_view spec, Faults* faults);
// Parses every --fault value; stops at the first unknown one.
Result<Faults> ParseFaults(const std::vector<std::string>& specs);
// The names of the active faults, for the ports file and logs.
std::vector<std::string> FaultNames(const Faults& faults);

}  // namespace kproxy::sim
