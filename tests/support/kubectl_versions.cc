#include "tests/support/kubectl_versions.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>

extern char** environ;

namespace kproxy::test {

namespace fs = std::filesystem;

fs::path ResolveOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return {};
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    fs::path candidate = fs::path(dir) / name;
    if (access(candidate.c_str(), X_OK) != 0) continue;
    std::error_code ec;
    fs::path real = fs::canonical(candidate, ec);
    if (!ec) return real;
  }
  return {};
}

std::vector<std::string> KubectlVersions::SkipNotes() const {
  std::vector<std::string> notes;
  for (const std::string& m : missing) notes.push_back("skipped: " + m + " not installed");
  return notes;
}

const KubectlBinary* KubectlVersions::Find(int minor) const {
  for (const KubectlBinary& b : found)
    if (b.minor == minor) return &b;
  return nullptr;
}

KubectlVersions FindKubectlVersions(int min_minor, int max_minor) {
  KubectlVersions v;
  if (const char* dir = std::getenv("KPROXY_KUBECTL_DIR"); dir && *dir) {
    v.dir = dir;
  } else {
    // The versioned binaries sit beside the real kubectl, not beside /usr/bin's symlink.
    fs::path kubectl = ResolveOnPath("kubectl");
    if (!kubectl.empty()) v.dir = kubectl.parent_path();
  }
  for (int minor = min_minor; minor <= max_minor; ++minor) {
    KubectlBinary b;
    b.minor = minor;
    if (!v.dir.empty()) b.path = v.dir / b.name();
    if (!b.path.empty() && access(b.path.c_str(), X_OK) == 0) {
      v.found.push_back(b);
    } else {
      v.missing.push_back(b.name());
    }
  }
  return v;
}

}  // namespace kproxy::test

// ---- running children ------------------------------------------------------------------

namespace kproxy::test {

namespace {

using Clock = std::chrono::steady_clock;

struct ExecVectors {
  std::vector<std::string> storage;
  std::vector<char*> argv, envp;
};

ExecVectors Prepare(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  ExecVectors v;
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    std::string key = kv.substr(0, kv.find('='));
    bool overridden = false;
    for (const std::string& add : env)
      if (add.substr(0, add.find('=')) == key) overridden = true;
    if (!overridden) envs.push_back(kv);
  }
  for (const std::string& add : env) envs.push_back(add);
  v.storage = argv;
  v.storage.insert(v.storage.end(), envs.begin(), envs.end());
  for (size_t i = 0; i < argv.size(); ++i) v.argv.push_back(v.storage[i].data());
  v.argv.push_back(nullptr);
  for (size_t i = argv.size(); i < v.storage.size(); ++i) v.envp.push_back(v.storage[i].data());
  v.envp.push_back(nullptr);
  return v;
}

[[noreturn]] void Exec(const ExecVectors& v) {
  close_range(3, ~0U, 0);
  signal(SIGPIPE, SIG_DFL);
  execve(v.argv[0], v.argv.data(), v.envp.data());
  _exit(127);
}

// Reaps `pid`, killing its group after the deadline; fills exit code and CPU time.
void Reap(pid_t pid, Clock::time_point deadline, ChildResult* r) {
  int status = 0;
  rusage ru{};
  while (true) {
    pid_t w = wait4(pid, &status, WNOHANG, &ru);
    if (w == pid) break;
    if (w < 0) return;
    if (Clock::now() >= deadline) {
      r->timed_out = true;
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      wait4(pid, &status, 0, &ru);
      break;
    }
    usleep(10000);
  }
  r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r->cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                   static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = stat.rfind(')');  // the command name may hold spaces
  if (paren == std::string::npos) return -1;
  std::istringstream fields(stat.substr(paren + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  // After ")": state is field 3; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

ChildResult RunChild(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                     const std::string& input, int timeout_ms) {
  ChildResult r;
  ExecVectors v = Prepare(argv, env);
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) return r;
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    Exec(v);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  size_t written = 0;
  int in_fd = in[1];
  fcntl(in_fd, F_SETFL, O_NONBLOCK);
  if (input.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  int fds[2] = {out[0], err[0]};
  while ((fds[0] >= 0 || fds[1] >= 0) && Clock::now() < deadline) {
    pollfd p[3] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}, {in_fd, POLLOUT, 0}};
    if (poll(p, 3, 100) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      ssize_t n = read(fds[i], buf, sizeof buf);
      if (n > 0)
        (i == 0 ? r.out : r.err).append(buf, n);
      else if (n == 0 || errno != EINTR) {
        close(fds[i]);
        fds[i] = -1;
      }
    }
    if (in_fd >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = write(in_fd, input.data() + written, input.size() - written);
      if (n > 0) written += n;
      if (n < 0 && errno != EAGAIN) written = input.size();
      if (written == input.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
  }
  for (int fd : fds)
    if (fd >= 0) close(fd);
  if (in_fd >= 0) close(in_fd);
  Reap(pid, deadline, &r);
  return r;
}

std::unique_ptr<PtyChild> PtyChild::Start(const std::vector<std::string>& argv,
                                          const std::vector<std::string>& env, int cols, int rows) {
  ExecVectors v = Prepare(argv, env);
  winsize ws{};
  ws.ws_col = static_cast<unsigned short>(cols);
  ws.ws_row = static_cast<unsigned short>(rows);
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, &ws);
  if (pid < 0) return nullptr;
  if (pid == 0) Exec(v);
  fcntl(master, F_SETFD, FD_CLOEXEC);
  fcntl(master, F_SETFL, O_NONBLOCK);
  std::unique_ptr<PtyChild> c(new PtyChild());
  c->master_ = master;
  c->pid_ = pid;
  return c;
}

PtyChild::~PtyChild() {
  if (!reaped_ && pid_ > 0) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (master_ >= 0) close(master_);
}

bool PtyChild::Write(const std::string& bytes) {
  size_t off = 0;
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (off < bytes.size() && Clock::now() < deadline) {
    ssize_t n = write(master_, bytes.data() + off, bytes.size() - off);
    if (n > 0)
      off += n;
    else if (n < 0 && errno != EAGAIN && errno != EINTR)
      return false;
    else
      ReadSome(10);  // keep the child's output flowing
  }
  return off == bytes.size();
}

void PtyChild::ReadSome(int timeout_ms) {
  pollfd p{master_, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0) return;
  char buf[8192];
  ssize_t n;
  while ((n = read(master_, buf, sizeof buf)) > 0) output_.append(buf, n);
}

bool PtyChild::WaitFor(const std::string& needle, int timeout_ms, size_t from) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    if (output_.size() > from && output_.find(needle, from) != std::string::npos) return true;
    if (Clock::now() >= deadline) return false;
    ReadSome(50);
  }
}

void PtyChild::Resize(int cols, int rows) {
  winsize ws{};
  ws.ws_col = static_cast<unsigned short>(cols);
  ws.ws_row = static_cast<unsigned short>(rows);
  ioctl(master_, TIOCSWINSZ, &ws);  // the kernel signals the foreground group
  kill(pid_, SIGWINCH);
}

ChildResult PtyChild::Wait(int timeout_ms) {
  if (reaped_) return result_;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    ReadSome(50);
    int status = 0;
    rusage ru{};
    if (wait4(pid_, &status, WNOHANG, &ru) == pid_) {
      ReadSome(0);
      reaped_ = true;
      result_.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      result_.out = output_;
      return result_;
    }
  }
  Reap(pid_, Clock::now(), &result_);
  reaped_ = true;
  result_.out = output_;
  return result_;
}

}  // namespace kproxy::test
