#include "tests/sim/proxy/relay.h"

#include <poll.h>

namespace kproxy::sim {

void Relay(Conn& client, Conn& upstream, const std::atomic<bool>* stop) {
  Conn* side[2] = {&client, &upstream};
  bool open[2] = {true, true};  // still reading from side[i]
  char buf[16384];
  while ((open[0] || open[1]) && !(stop && stop->load())) {
    pollfd p[2];
    int wait_ms = 500;
    for (int i = 0; i < 2; ++i) {
      p[i] = {side[i]->fd(), static_cast<short>(open[i] ? POLLIN : 0), 0};
      if (open[i] && side[i]->HasBuffered()) wait_ms = 0;
    }
    if (poll(p, 2, wait_ms) < 0) return;
    for (int i = 0; i < 2; ++i) {
      if (!open[i]) continue;
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)) && !side[i]->HasBuffered()) continue;
      ssize_t n = side[i]->Read(buf, sizeof buf, 0);
      if (n == Conn::kTimeout) continue;
      if (n <= 0) {
        open[i] = false;
        side[1 - i]->ShutdownWrite();
        if (n < 0) return;
        // The upstream finished its response: nothing more can usefully come from the client.
        if (i == 1) return;
        continue;
      }
      if (!side[1 - i]->WriteAll(std::string_view(buf, n))) return;
    }
  }
}

}  // namespace kproxy::sim
