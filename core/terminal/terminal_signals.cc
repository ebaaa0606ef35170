#include "core/terminal/terminal_signals.h"

#include <signal.h>

namespace kproxy {
namespace {
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGCONT, SIGWINCH};
}

Result<std::unique_ptr<TerminalSignals>> TerminalSignals::Install(EventLoop& loop,
                                                                  RawModeGuard* guard, int tty_fd,
                                                                  TerminalSignalHandlers handlers) {
  std::unique_ptr<TerminalSignals> ts(
      new TerminalSignals(loop, guard, tty_fd, std::move(handlers)));
  TerminalSignals* self = ts.get();
  for (int s : kSignals) {
    Status st = loop.WatchSignal(s, [self](int signo) { self->OnSignal(signo); });
    if (!st.ok()) return st.error();
  }
  return ts;
}

TerminalSignals::~TerminalSignals() {
  for (int s : kSignals) loop_.UnwatchSignal(s);
}

void TerminalSignals::ReportSize() {
  if (!handlers_.on_resize) return;
  if (auto size = GetWindowSize(tty_fd_)) handlers_.on_resize(*size);
}

void TerminalSignals::OnSignal(int signo) {
  switch (signo) {
    case SIGWINCH:
      ReportSize();
      break;
    case SIGCONT:
      // A job-control stop lets the shell reset the terminal to cooked mode.
      if (guard_) guard_->Reapply();
      ReportSize();
      break;
    default:  // SIGINT, SIGTERM, SIGHUP
      if (guard_) guard_->Restore();
      if (handlers_.on_terminate) handlers_.on_terminate(signo);
      break;
  }
}

}  // namespace kproxy
