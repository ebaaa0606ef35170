// Finds the real kubectl binaries the conformance tests run against: kubectl.1.27 … kubectl.1.33
// installed beside `kubectl` (readlink -f $(which kubectl) → its directory; the Google Cloud SDK
// ships them in /usr/lib/google-cloud-sdk/bin). KPROXY_KUBECTL_DIR overrides the directory.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace kproxy::test {

inline constexpr int kKubectlMinMinor = 27;
inline constexpr int kKubectlMaxMinor = 33;

struct KubectlBinary {
  int minor = 0;               // 27 for kubectl.1.27
  std::filesystem::path path;  // executable
  std::string name() const { return "kubectl.1." + std::to_string(minor); }
};

struct KubectlVersions {
  std::filesystem::path dir;         // where they were looked for ("" when kubectl is not on PATH)
  std::vector<KubectlBinary> found;  // ascending minor
  std::vector<std::string> missing;  // "kubectl.1.NN" names not installed
  // "skipped: kubectl.1.29 not installed" lines, one per missing version.
  std::vector<std::string> SkipNotes() const;
  // The binary for `minor`, or nullptr.
  const KubectlBinary* Find(int minor) const;
};

// Consumes PATH (or KPROXY_KUBECTL_DIR) and the file system; returns what is installed.
KubectlVersions FindKubectlVersions(int min_minor = kKubectlMinMinor,
                                    int max_minor = kKubectlMaxMinor);

// Looks `name` up in PATH like `which`; returns the resolved (symlink-free) path or "".
std::filesystem::path ResolveOnPath(const std::string& name);

// Running a kubectl (or any) child for a bounded time, the way the conformance tests drive the
// real binaries: pipes, or a pty the test controls (resize = TIOCSWINSZ + SIGWINCH).
struct ChildResult {
  int exit_code = -1;  // 128+n when killed by signal n
  bool timed_out = false;
  std::string out, err;
  double cpu_seconds = 0;  // the child's user+system CPU time (getrusage of the reaped child)
};

// user+system CPU seconds a running process has used so far (/proc/<pid>/stat), -1 if gone.
double ProcessCpuSeconds(pid_t pid);

// Runs `argv` with `env` added to the environment, feeding `input` on stdin (then EOF);
// kills the child's process group after `timeout_ms`.
ChildResult RunChild(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                     const std::string& input, int timeout_ms);

// A child under a pty: the test is the terminal.
class PtyChild {
 public:
  // Starts `argv` on a new pty of `cols` x `rows`; null when forkpty failed.
  static std::unique_ptr<PtyChild> Start(const std::vector<std::string>& argv,
                                         const std::vector<std::string>& env, int cols, int rows);
  ~PtyChild();  // kills the process group if still running
  PtyChild(const PtyChild&) = delete;
  PtyChild& operator=(const PtyChild&) = delete;

  bool Write(const std::string& bytes);
  // Reads until the output (since start) contains `needle` after position `from`, or timeout.
  bool WaitFor(const std::string& needle, int timeout_ms, size_t from = 0);
  // Sets the terminal size and tells the child (SIGWINCH to its foreground group).
  void Resize(int cols, int rows);
  // Waits for exit (draining output), killing after `timeout_ms`; returns the exit code.
  ChildResult Wait(int timeout_ms);
  const std::string& output() const { return output_; }
  pid_t pid() const { return pid_; }

 private:
  PtyChild() = default;
  void ReadSome(int timeout_ms);
  int master_ = -1;
  pid_t pid_ = -1;
  bool reaped_ = false;
  ChildResult result_;
  std::string output_;
};

}  // namespace kproxy::test
