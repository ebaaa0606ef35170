// RAII raw mode for a terminal: saved termios restored on every exit path — the destructor,
// Restore(), SIGINT/SIGTERM/SIGHUP (see terminal_signals.h), and a last-resort atexit hook
// for paths that skip destructors (exit() from deep inside a library).
#pragma once

#include <termios.h>

#include "core/base/result.h"

namespace kproxy {

class RawModeGuard {
 public:
  // Saves the modes of terminal `fd` and applies raw mode (cfmakeraw: no echo, no canonical
  // input, no signal keys — ^C travels to the remote side — and no output post-processing).
  static Result<RawModeGuard> Enter(int fd);
  RawModeGuard(RawModeGuard&& other) noexcept;
  RawModeGuard& operator=(RawModeGuard&&) = delete;
  RawModeGuard(const RawModeGuard&) = delete;
  ~RawModeGuard();

  // Puts the saved modes back (idempotent).
  void Restore();
  // Applies raw mode again (after SIGCONT: a shell may have reset the terminal while we were
  // stopped). No-op after Restore().
  void Reapply();
  bool active() const { return active_; }
  int fd() const { return fd_; }

 private:
  RawModeGuard() = default;
  int fd_ = -1;
  bool active_ = false;
  struct termios saved_ {};
};

// Restores every terminal a live guard changed. Async-signal-safe (tcsetattr only); used by
// the atexit hook and available to a fatal-signal path.
void RestoreAllTerminals();

}  // namespace kproxy
