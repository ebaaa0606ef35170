// Drives the kproxy binary end to end against a simulator: a per-test cluster (kproxy-sim in a
// temporary directory, with its own HOME so protocol memory never leaks between tests), bounded
// child runs over pipes that hash stdout incrementally (100 MB never needs to be held), stdin fed
// from memory or a file, and the child's peak RSS (VmHWM) and CPU time (wait4); and a pty the
// test controls, whose terminal modes can be read back (tcgetattr on the master).
#pragma once

#include <sys/types.h>
#include <termios.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/sim_process.h"
#include "tests/support/test_env.h"

namespace kproxy::test {

// The kproxy binary (KPROXY_BIN, else <build>/kproxy).
std::filesystem::path KproxyBinary();

// Hex SHA-256 of `data`.
std::string Sha256Hex(const std::string& data);
// Hex SHA-256 of a file's contents; "" when unreadable.
std::string FileSha256Hex(const std::filesystem::path& path);
// Writes `size` deterministic pseudo-random bytes (xorshift) to `path`; false on I/O error.
bool WriteDeterministicFile(const std::filesystem::path& path, size_t size);

struct ProcessOptions {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "NAME=value" additions
  std::string input;             // fed on stdin, then EOF (unless input_file is set)
  std::filesystem::path input_file;
  uint64_t input_zeros = 0;      // > 0: stdin is a pipe fed this many zero bytes, then EOF
  bool keep_stdin_open = false;  // no EOF: stdin stays open until the child exits
  size_t keep_stdout = 1 << 20;  // bytes of stdout kept in `out` (the rest is only hashed)
  int timeout_ms = 30000;        // then SIGKILL to the process group
  // Called about every 50 ms while the child runs (pid); returning false kills it.
  std::function<bool(pid_t)> on_tick;
  // Reads stdout at most this many bytes per 20 ms when > 0 (a slow local consumer).
  size_t slow_stdout_bytes = 0;
};

struct ProcessResult {
  int exit_code = -1;  // 128+n when killed by signal n
  bool timed_out = false;
  std::string out;  // the first keep_stdout bytes
  uint64_t out_bytes = 0;
  uint64_t in_bytes = 0;  // stdin bytes the child took from the pipe
  std::string out_sha256;
  std::string err;
  long max_rss_kb = 0;  // the child's peak VmHWM while it ran (ru_maxrss if never sampled)
  double cpu_seconds = 0;
  double wall_seconds = 0;
  std::string Describe() const;  // exit, timing and the beginning of stdout/stderr, for INFO
};

// Runs a child with pipes, bounded by options.timeout_ms.
ProcessResult RunProcess(const ProcessOptions& options);

// Peak resident set (VmHWM, kB) of a running process, or -1.
long PeakRssKb(pid_t pid);

class PtySession;

// A simulator for kproxy runs: its kubeconfig, a private HOME / XDG_CACHE_HOME.
struct SimCluster {
  TempDir home;
  std::unique_ptr<SimProcess> sim;
  std::vector<std::string> env;
  // Starts kproxy-sim with `faults`; `error` says why when it returns false.
  bool Start(std::vector<std::string> faults, bool proxy, std::string* error);
  bool Start(SimOptions options, std::string* error);
  // Runs `kproxy args...` with this cluster's environment (+ extra_env).
  ProcessResult Kproxy(std::vector<std::string> args, const std::string& input = "",
                       int timeout_ms = 30000, std::vector<std::string> extra_env = {}) const;
  ProcessResult Run(ProcessOptions options) const;  // argv[0] "kproxy" is resolved here
  // `kproxy args...` on a fresh pty of cols x rows with this cluster's environment; null when
  // no pty could be made.
  std::unique_ptr<PtySession> Pty(const std::vector<std::string>& args, int cols = 80,
                                  int rows = 24) const;
  // Starts `kproxy args...` in the background with this cluster's environment (+ extra_env);
  // its stdout and stderr go to files under `home`.
  std::unique_ptr<ChildProcess> Spawn(const std::vector<std::string>& args,
                                      const std::vector<std::string>& extra_env = {}) const;
  // Signs in to an access-proxy route through its form; the session JWT or "".
  std::string SignIn(const std::string& route, const std::string& user,
                     const std::string& password) const;
};

// A child on a fresh pty of cols x rows; the test is the terminal.
class PtySession {
 public:
  static std::unique_ptr<PtySession> Start(const std::vector<std::string>& argv,
                                           const std::vector<std::string>& env, int cols, int rows);
  ~PtySession();  // SIGKILLs the process group if still running
  PtySession(const PtySession&) = delete;
  PtySession& operator=(const PtySession&) = delete;

  bool Write(const std::string& bytes);
  // Reads until output after `from` contains `needle`, the timeout, or the child's exit.
  bool WaitFor(const std::string& needle, int timeout_ms, size_t from = 0);
  // TIOCSWINSZ on the master: the kernel sends SIGWINCH to the foreground process group.
  void Resize(int cols, int rows);
  // The terminal's current modes (shared by master and slave).
  std::optional<termios> Modes() const;
  // The modes before the child ran (read between openpty and fork).
  const termios& initial_modes() const { return initial_; }
  // Waits for exit (reading output), SIGKILL after timeout_ms. exit_code -1 on timeout.
  int Wait(int timeout_ms, bool* timed_out = nullptr);
  const std::string& output() const { return output_; }
  pid_t pid() const { return pid_; }

 private:
  PtySession() = default;
  void ReadSome(int timeout_ms);
  int master_ = -1;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
  termios initial_{};
  std::string output_;
};

// True when the terminal modes that matter for a restore check are equal (flags and c_cc).
bool SameModes(const termios& a, const termios& b);

}  // namespace kproxy::test
