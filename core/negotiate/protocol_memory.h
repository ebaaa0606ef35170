// Per-cluster memory of which streaming protocol worked and which was refused, so the next
// session goes straight to the one that works (protocols.md §4). A small JSON file with a TTL,
// written atomically (temp file + rename). Corrupt or unreadable files are ignored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/negotiate/fallback_policy.h"

namespace kproxy {

struct RememberedOutcome {
  std::optional<StreamProtocol> good;
  std::optional<StreamProtocol> refused;
  int64_t at = 0;  // unix seconds
};

class ProtocolMemory {
 public:
  // `path`: the JSON file; `ttl_seconds`: entries older than this are ignored.
  ProtocolMemory(std::string path, int64_t ttl_seconds);

  // kind: "exec" (exec/attach) or "portforward". `now`: unix seconds.
  std::optional<RememberedOutcome> Lookup(const std::string& server, const std::string& kind,
                                          int64_t now) const;
  // Records an outcome; returns false (silently, it is only a cache) if the file can't be
  // written. An entry with the same good/refused protocols younger than half the TTL is left
  // as it is (no write at all; returns true).
  bool Record(const std::string& server, const std::string& kind, const RememberedOutcome& o);

  // ${XDG_CACHE_HOME:-$HOME/.cache}/kproxy/protocols.json
  static std::string DefaultPath();

 private:
  std::string path_;
  int64_t ttl_;
  // The entry Lookup() last read from the file, valid or not: Record() of the same outcome
  // decides "unchanged, nothing to write" from it (the usual case) instead of reading the
  // file a second time, and reads it again only when it has to write.
  struct Seen {
    std::string key;  // server|kind
    RememberedOutcome entry;
  };
  mutable std::optional<Seen> seen_;
};

// The protocol plan for `kind` on `server`: the --protocol flag, the value of kubectl's
// environment switch (nullptr when unset), and what `memory` remembers (PlanProtocols).
ProtocolPlan PlanFromMemory(const ProtocolMemory& memory, const std::string& server,
                            const std::string& kind, const std::string& flag, const char* env_value,
                            int64_t now);

// True when the plan offers one protocol only (--protocol=websocket|spdy, or the environment
// switch =false): such a run says nothing about what the cluster prefers, so callers must not
// record its outcome (a forced SPDY run would otherwise make later automatic runs start with
// SPDY).
bool PlanIsForced(const ProtocolPlan& plan);

}  // namespace kproxy
