// Terminal signal discipline on the event loop (mosh's rule: handlers only record, the loop
// acts): SIGINT/SIGTERM/SIGHUP restore the terminal then report; SIGCONT re-applies raw mode
// and re-reports the size; SIGWINCH reads the new window size and reports it as an event.
#pragma once

#include <functional>
#include <memory>

#include "core/base/result.h"
#include "core/terminal/raw_mode.h"
#include "core/terminal/tty.h"
#include "core/transport/event_loop.h"

namespace kproxy {

struct TerminalSignalHandlers {
  // The terminal's current size after SIGWINCH (and after SIGCONT).
  std::function<void(WindowSize)> on_resize;
  // SIGINT/SIGTERM/SIGHUP arrived; the terminal is already restored when this runs.
  std::function<void(int signo)> on_terminate;
};

class TerminalSignals {
 public:
  // Watches the signals on `loop`. `guard` may be null (no raw mode: resize/terminate only);
  // it must outlive this object. `tty_fd` is where the window size is read.
  static Result<std::unique_ptr<TerminalSignals>> Install(EventLoop& loop, RawModeGuard* guard,
                                                          int tty_fd,
                                                          TerminalSignalHandlers handlers);
  ~TerminalSignals();
  TerminalSignals(const TerminalSignals&) = delete;
  TerminalSignals& operator=(const TerminalSignals&) = delete;

 private:
  TerminalSignals(EventLoop& loop, RawModeGuard* guard, int tty_fd, TerminalSignalHandlers h)
      : loop_(loop), guard_(guard), tty_fd_(tty_fd), handlers_(std::move(h)) {}
  void OnSignal(int signo);
  void ReportSize();

  EventLoop& loop_;
  RawModeGuard* guard_;
  int tty_fd_;
  TerminalSignalHandlers handlers_;
};

}  // namespace kproxy
