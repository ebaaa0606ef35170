// Byte-for-byte relay between two connections (client ↔ upstream) after a forwarded request:
// used for plain responses (until the upstream closes) and for upgraded streams after a 101.
#pragma once

#include <atomic>

#include "tests/sim/server/conn.h"

namespace kproxy::sim {

// Moves bytes both ways until both directions ended, either side failed, or `stop` is set.
// An end of stream on one side half-closes the other, so SPDY/WebSocket closes pass through.
void Relay(Conn& client, Conn& upstream, const std::atomic<bool>* stop);

}  // namespace kproxy::sim
