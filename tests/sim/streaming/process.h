// A container command run as a local process: pipes for stdin/stdout/stderr, or a pty when the
// session asked for a tty. The session loop owns the descriptors it polls; this class owns the
// child (kill on destruction) and turns its end into a remotecommand exit code.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"

namespace kproxy::sim::streaming {

struct ProcessSpec {
  std::vector<std::string> argv;
  std::string working_dir;                 // "" = inherit
  std::map<std::string, std::string> env;  // added to a minimal environment
  bool tty = false;
  uint16_t width = 0, height = 0;  // initial pty size (0: leave the default)
};

class Process {
 public:
  // Forks and execs `spec.argv`. With tty: one pty (forkpty), the child a session leader with
  // it as controlling terminal; stdout and stderr are then the same master descriptor. An argv
  // that cannot be executed exits 127 in the child (as sh does), which callers see as an exit
  // code, like the kubelet's "executable file not found" turns into a failed exec.
  static Result<std::unique_ptr<Process>> Start(const ProcessSpec& spec);
  ~Process();  // SIGKILLs a still-running child and reaps it
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Non-blocking descriptors for the session loop (-1 once closed). With a tty, stdout_fd()
  // is the pty master and stderr_fd() is -1.
  int stdin_fd() const { return stdin_fd_; }
  int stdout_fd() const { return stdout_fd_; }
  int stderr_fd() const { return stderr_fd_; }
  bool tty() const { return tty_; }
  pid_t pid() const { return pid_; }

  // Writes as much of `bytes` as the pipe takes now; returns the count written, or -1 when
  // the process's stdin is gone (EPIPE / closed).
  ssize_t WriteStdin(std::string_view bytes);
  // Client stdin EOF: closes the pipe; with a pty writes the VEOF character (^D) instead, the
  // way a terminal user ends input (the master stays open for output).
  void CloseStdin();
  // TIOCSWINSZ on the pty (then the kernel sends SIGWINCH to the foreground group).
  void Resize(uint16_t width, uint16_t height);
  // Closes our end of an output descriptor after EOF/EIO.
  void CloseOutput(int fd);

  // Non-blocking reap: true once the child exited; then exit_code() is set.
  bool Poll();
  // Blocks (bounded) until exit; SIGKILLs after `timeout_ms`.
  int Wait(int timeout_ms);
  std::optional<int> exit_code() const { return exit_code_; }
  // SIGKILL to the child's process group (the session's shell and what it started).
  void Kill();

 private:
  Process() = default;
  pid_t pid_ = -1;
  bool tty_ = false;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  bool stdin_closed_ = false;
  std::optional<int> exit_code_;
};

// waitpid status → remotecommand exit code: exit N → N, killed by signal n → 128+n.
int ExitCodeFromWaitStatus(int status);

}  // namespace kproxy::sim::streaming
