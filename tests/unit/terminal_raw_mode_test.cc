#include <doctest/doctest.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>

#include "core/terminal/raw_mode.h"
#include "core/terminal/terminal_signals.h"
#include "core/terminal/tty.h"
#include "core/transport/event_loop.h"

namespace kproxy {
namespace {

using std::chrono::milliseconds;

struct Pty {
  int master = -1;
  int slave = -1;
  bool ok = false;
  Pty() { ok = openpty(&master, &slave, nullptr, nullptr, nullptr) == 0; }
  ~Pty() {
    if (master >= 0) close(master);
    if (slave >= 0) close(slave);
  }
};

bool SameModes(const termios& a, const termios& b) {
  return a.c_iflag == b.c_iflag && a.c_oflag == b.c_oflag && a.c_cflag == b.c_cflag &&
         a.c_lflag == b.c_lflag && std::memcmp(a.c_cc, b.c_cc, sizeof a.c_cc) == 0;
}

TEST_CASE("terminal: raw mode guard applies raw mode and restores on scope exit") {
  Pty pty;
  if (!pty.ok) {
    MESSAGE("no pty available on this machine; skipping pty checks");
    return;
  }
  termios before{};
  REQUIRE(tcgetattr(pty.slave, &before) == 0);
  REQUIRE((before.c_lflag & ICANON) != 0);
  {
    auto guard = RawModeGuard::Enter(pty.slave);
    REQUIRE(guard.ok());
    termios during{};
    tcgetattr(pty.slave, &during);
    CHECK((during.c_lflag & (ICANON | ECHO | ISIG)) == 0);
    CHECK((during.c_oflag & OPOST) == 0);
    RawModeGuard moved(std::move(*guard));  // ownership moves, restore happens once
    CHECK(moved.active());
  }
  termios after{};
  tcgetattr(pty.slave, &after);
  CHECK(SameModes(before, after));
}

TEST_CASE("terminal: raw mode on a non-terminal is a clear error") {
  int p[2];
  REQUIRE(pipe(p) == 0);
  CHECK_FALSE(IsTerminal(p[0]));
  auto guard = RawModeGuard::Enter(p[0]);
  CHECK_FALSE(guard.ok());
  CHECK(guard.error().code == ErrorCode::kUsage);
  close(p[0]);
  close(p[1]);
}

void CheckSignalRestores(int signo) {
  Pty pty;
  if (!pty.ok) {
    MESSAGE("no pty available; skipping");
    return;
  }
  termios before{};
  REQUIRE(tcgetattr(pty.slave, &before) == 0);
  int ready[2];
  REQUIRE(pipe(ready) == 0);
  fflush(stdout);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Child: raw mode, then wait on the loop for a terminating signal.
    close(ready[0]);
    auto loop = EventLoop::Create();
    if (!loop.ok()) _exit(10);
    auto guard = RawModeGuard::Enter(pty.slave);
    if (!guard.ok()) _exit(11);
    int got = 0;
    auto sig = TerminalSignals::Install(**loop, &*guard, pty.slave, {nullptr, [&](int s) {
                                                                       got = s;
                                                                       (*loop)->Stop();
                                                                     }});
    if (!sig.ok()) _exit(12);
    [[maybe_unused]] auto w = write(ready[1], "r", 1);
    (*loop)->RunUntil([&] { return got != 0; }, milliseconds(5000));
    termios now{};
    tcgetattr(pty.slave, &now);
    // Exit immediately: no destructor may be the one that restored.
    _exit(got == signo && SameModes(before, now) ? 0 : 20);
  }
  close(ready[1]);
  char c;
  REQUIRE(read(ready[0], &c, 1) == 1);
  close(ready[0]);
  termios during{};
  tcgetattr(pty.slave, &during);
  CHECK((during.c_lflag & ICANON) == 0);  // the child really went raw
  kill(pid, signo);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  termios after{};
  tcgetattr(pty.slave, &after);
  CHECK(SameModes(before, after));
}

TEST_CASE("terminal: SIGTERM, SIGINT and SIGHUP on the loop restore the terminal") {
  for (int signo : {SIGTERM, SIGINT, SIGHUP}) {
    CAPTURE(signo);
    CheckSignalRestores(signo);
  }
}

TEST_CASE("terminal: the atexit hook restores when exit() skips destructors") {
  Pty pty;
  if (!pty.ok) {
    MESSAGE("no pty available; skipping");
    return;
  }
  termios before{};
  REQUIRE(tcgetattr(pty.slave, &before) == 0);
  fflush(stdout);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    auto* leaked = new Result<RawModeGuard>(RawModeGuard::Enter(pty.slave));
    std::exit(leaked->ok() ? 0 : 3);  // no destructor runs for *leaked
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WEXITSTATUS(status) == 0);
  termios after{};
  tcgetattr(pty.slave, &after);
  CHECK(SameModes(before, after));
}

TEST_CASE("terminal: SIGWINCH yields the new window size; SIGCONT re-applies raw mode") {
  Pty pty;
  if (!pty.ok) {
    MESSAGE("no pty available; skipping");
    return;
  }
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  auto guard = RawModeGuard::Enter(pty.slave);
  REQUIRE(guard.ok());
  std::optional<WindowSize> seen;
  int resizes = 0;
  auto sig = TerminalSignals::Install(**loop, &*guard, pty.slave,
                                      {[&](WindowSize s) {
                                         seen = s;
                                         ++resizes;
                                       },
                                       nullptr});
  REQUIRE(sig.ok());
  struct winsize ws {};
  ws.ws_col = 132;
  ws.ws_row = 43;
  REQUIRE(ioctl(pty.master, TIOCSWINSZ, &ws) == 0);
  // The pty is not our controlling terminal, so the kernel signals its (empty) foreground
  // group; deliver the signal to ourselves as the terminal would.
  raise(SIGWINCH);
  CHECK((*loop)->RunUntil([&] { return seen.has_value(); }, milliseconds(2000)));
  REQUIRE(seen.has_value());
  CHECK(seen->width == 132);
  CHECK(seen->height == 43);

  // Something (a shell during a job-control stop) puts the terminal back to cooked mode.
  termios cooked{};
  tcgetattr(pty.slave, &cooked);
  cooked.c_lflag |= ICANON | ECHO;
  tcsetattr(pty.slave, TCSANOW, &cooked);
  raise(SIGCONT);
  CHECK((*loop)->RunUntil([&] { return resizes == 2; }, milliseconds(2000)));
  termios now{};
  tcgetattr(pty.slave, &now);
  CHECK((now.c_lflag & (ICANON | ECHO)) == 0);
  sig->reset();
}

TEST_CASE("terminal: window size of a non-terminal is unknown") {
  int p[2];
  REQUIRE(pipe(p) == 0);
  CHECK_FALSE(GetWindowSize(p[1]).has_value());
  close(p[0]);
  close(p[1]);
}

}  // namespace
}  // namespace kproxy
