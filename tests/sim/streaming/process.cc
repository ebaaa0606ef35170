#include "tests/sim/streaming/process.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

namespace kproxy::sim::streaming {

namespace {

void SetNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// argv/envp prepared before fork: after fork in a threaded process only async-signal-safe
// calls are allowed, so the child touches nothing but these arrays.
struct ExecArgs {
  std::vector<std::string> storage;
  std::vector<char*> argv, envp;
};

ExecArgs PrepareExec(const ProcessSpec& spec) {
  ExecArgs a;
  std::map<std::string, std::string> env = {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"HOME", spec.working_dir.empty() ? "/tmp" : spec.working_dir},
      {"HOSTNAME", "sim-pod"}};
  // Container runtimes set TERM only for tty sessions.
  if (spec.tty) env["TERM"] = "xterm";
  for (const auto& [k, v] : spec.env) env[k] = v;
  a.storage.reserve(spec.argv.size() + env.size());
  for (const std::string& s : spec.argv) a.storage.push_back(s);
  for (const auto& [k, v] : env) a.storage.push_back(k + "=" + v);
  for (size_t i = 0; i < spec.argv.size(); ++i) a.argv.push_back(a.storage[i].data());
  a.argv.push_back(nullptr);
  for (size_t i = spec.argv.size(); i < a.storage.size(); ++i)
    a.envp.push_back(a.storage[i].data());
  a.envp.push_back(nullptr);
  return a;
}

[[noreturn]] void ExecChild(const ExecArgs& a, const std::string& dir) {
  // The simulator's sockets must not leak into the container process: a shell holding the
  // client's socket would keep the connection open after the session ended.
  close_range(3, ~0U, 0);
  signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (!dir.empty() && chdir(dir.c_str()) != 0) _exit(126);
  execvpe(a.argv[0], a.argv.data(), a.envp.data());
  _exit(errno == ENOENT ? 127 : 126);
}

}  // namespace

int ExitCodeFromWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

Result<std::unique_ptr<Process>> Process::Start(const ProcessSpec& spec) {
  if (spec.argv.empty()) return MakeError(ErrorCode::kUsage, "empty command");
  ExecArgs args = PrepareExec(spec);
  std::unique_ptr<Process> p(new Process());
  p->tty_ = spec.tty;
  if (spec.tty) {
    winsize ws{};
    ws.ws_col = spec.width ? spec.width : 80;
    ws.ws_row = spec.height ? spec.height : 24;
    int master = -1;
    pid_t pid = forkpty(&master, nullptr, nullptr, &ws);
    if (pid < 0) return MakeError(ErrorCode::kInternal, std::string("forkpty: ") + strerror(errno));
    if (pid == 0) ExecChild(args, spec.working_dir);  // forkpty made it a session leader
    fcntl(master, F_SETFD, FD_CLOEXEC);
    SetNonBlocking(master);
    p->pid_ = pid;
    p->stdin_fd_ = master;
    p->stdout_fd_ = master;
    return p;
  }
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) return MakeError(ErrorCode::kInternal, "pipe");
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]), close(in[1]);
    return MakeError(ErrorCode::kInternal, "pipe");
  }
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    return MakeError(ErrorCode::kInternal, "pipe");
  }
  pid_t pid = fork();
  if (pid < 0) {
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
    return MakeError(ErrorCode::kInternal, std::string("fork: ") + strerror(errno));
  }
  if (pid == 0) {
    setsid();  // own process group: Kill() reaches what the command started
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    ExecChild(args, spec.working_dir);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  for (int fd : {in[1], out[0], err[0]}) SetNonBlocking(fd);
  p->pid_ = pid;
  p->stdin_fd_ = in[1];
  p->stdout_fd_ = out[0];
  p->stderr_fd_ = err[0];
  return p;
}

Process::~Process() {
  if (!exit_code_) {
    Kill();
    Wait(2000);
  }
  if (stdin_fd_ >= 0 && stdin_fd_ != stdout_fd_) close(stdin_fd_);
  if (stdout_fd_ >= 0) close(stdout_fd_);
  if (stderr_fd_ >= 0) close(stderr_fd_);
}

ssize_t Process::WriteStdin(std::string_view bytes) {
  if (stdin_fd_ < 0 || stdin_closed_) return -1;
  ssize_t n;
  do {
    n = write(stdin_fd_, bytes.data(), bytes.size());
  } while (n < 0 && errno == EINTR);
  if (n >= 0) return n;
  if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
  return -1;
}

void Process::CloseStdin() {
  if (stdin_closed_) return;
  stdin_closed_ = true;
  if (tty_) {
    // The pty master is also the output: end input the way a user at the terminal does.
    termios t{};
    char veof = 4;
    if (tcgetattr(stdout_fd_, &t) == 0 && t.c_cc[VEOF] != _POSIX_VDISABLE) veof = t.c_cc[VEOF];
    (void)!write(stdout_fd_, &veof, 1);
    return;
  }
  if (stdin_fd_ >= 0) close(stdin_fd_);
  stdin_fd_ = -1;
}

void Process::Resize(uint16_t width, uint16_t height) {
  if (!tty_ || stdout_fd_ < 0) return;
  winsize ws{};
  ws.ws_col = width;
  ws.ws_row = height;
  ioctl(stdout_fd_, TIOCSWINSZ, &ws);
}

void Process::CloseOutput(int fd) {
  if (fd < 0) return;
  if (fd == stdout_fd_) {
    if (tty_) stdin_fd_ = -1;  // same descriptor
    stdout_fd_ = -1;
  } else if (fd == stderr_fd_) {
    stderr_fd_ = -1;
  } else {
    return;
  }
  close(fd);
}

bool Process::Poll() {
  if (exit_code_) return true;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = ExitCodeFromWaitStatus(status);
    return true;
  }
  if (r < 0 && errno == ECHILD) {
    exit_code_ = 1;  // reaped elsewhere; should not happen
    return true;
  }
  return false;
}

int Process::Wait(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!Poll()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      Kill();
      int status = 0;
      if (waitpid(pid_, &status, 0) == pid_)
        exit_code_ = ExitCodeFromWaitStatus(status);
      else
        exit_code_ = 128 + SIGKILL;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return *exit_code_;
}

void Process::Kill() {
  if (pid_ <= 0 || exit_code_) return;
  // The child leads its own session/process group (setsid/forkpty).
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);
}

}  // namespace kproxy::sim::streaming
