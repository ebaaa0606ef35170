// Child processes of the tests: argv/envp prepared before fork (so the forked child only calls
// async-signal-safe functions), and a background child whose stdout and stderr go to files the
// test reads while it runs (the simulator, a long-running `kproxy port-forward`), signalled
// and reaped with bounded waits.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace kproxy::test {

struct ExecVectors {
  std::vector<std::string> storage_argv, storage_env;
  std::vector<char*> argv, envp;
};

// Consumes argv and `env` ("NAME=value" additions to this process's environment; a later
// addition overrides an earlier one of the same name); returns what execve takes.
ExecVectors PrepareExec(const std::vector<std::string>& argv, const std::vector<std::string>& env);
// In a forked child: default SIGPIPE, then execve; _exit(127) when that failed.
[[noreturn]] void ExecPrepared(ExecVectors& v);
// A waitpid status as an exit code: the exit status, 128+n when killed by signal n.
int DecodeWaitStatus(int status);

class ChildProcess {
 public:
  // Starts argv (argv[0] a path) with `env` additions, stdin /dev/null, stdout appended to
  // `out` and stderr to `err` (to `out` too when empty). Null when fork failed.
  static std::unique_ptr<ChildProcess> Start(const std::vector<std::string>& argv,
                                             const std::vector<std::string>& env,
                                             const std::filesystem::path& out,
                                             const std::filesystem::path& err = {});
  ~ChildProcess();  // SIGKILL and reap when still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // False once it ended (it is reaped then).
  bool Alive();
  // The exit code once it ended (128+n for signal n), -1 while it runs.
  int exit_code() const { return exit_code_; }
  // Whether it ended by a signal rather than an exit.
  bool signaled() const { return signaled_; }
  // Waits up to `timeout` for the end; the exit code, or -1 when it still runs.
  int Wait(std::chrono::milliseconds timeout);
  // Sends `signo` (when it still runs), then Wait(timeout).
  int Signal(int signo, std::chrono::milliseconds timeout);
  // SIGKILL (when it still runs) and reap; the exit code.
  int Kill();
  // What it wrote so far.
  std::string out() const;
  std::string err() const;

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  bool reaped_ = false;
  bool signaled_ = false;
  int exit_code_ = -1;
  std::filesystem::path out_, err_;
};

}  // namespace kproxy::test
