#include "tests/support/pty_runner.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utmp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace kproxy::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string Hex(const unsigned char* md, unsigned int n) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) out += {hex[md[i] >> 4], hex[md[i] & 15]};
  return out;
}

void SetNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

}  // namespace

std::filesystem::path KproxyBinary() {
  if (const char* b = getenv("KPROXY_BIN"); b && *b) return b;
  return BinaryDir() / "kproxy";
}

std::string Sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return Hex(md, n);
}

std::string FileSha256Hex(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "";
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 20);
  while (f) {
    f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(f.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx, md, &n);
  EVP_MD_CTX_free(ctx);
  return Hex(md, n);
}

bool WriteDeterministicFile(const std::filesystem::path& path, size_t size) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  std::vector<uint32_t> block(1 << 16);
  uint32_t x = 2463534242u;
  size_t left = size;
  while (left > 0 && f) {
    for (uint32_t& w : block) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      w = x;
    }
    size_t n = std::min(left, block.size() * sizeof(uint32_t));
    f.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(n));
    left -= n;
  }
  return static_cast<bool>(f);
}

std::string ProcessResult::Describe() const {
  std::ostringstream s;
  s << "exit=" << exit_code << (timed_out ? " (timed out)" : "") << " wall=" << wall_seconds
    << "s cpu=" << cpu_seconds << "s maxrss=" << max_rss_kb << "kB stdout=" << out_bytes
    << " bytes\nstdout: " << out.substr(0, 300) << "\nstderr: " << err.substr(0, 1500);
  return s.str();
}

long PeakRssKb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

ProcessResult RunProcess(const ProcessOptions& o) {
  ProcessResult r;
  ExecVectors v = PrepareExec(o.argv, o.env);
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) return r;
  int file_fd = -1;
  if (!o.input_file.empty()) file_fd = open(o.input_file.c_str(), O_RDONLY | O_CLOEXEC);
  // Closed by the child's exec (O_CLOEXEC): its EOF says the child is kproxy, no longer a
  // copy of this process, so VmHWM samples from then on are the child's own.
  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC)) return r;
  auto start = Clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    close(exec_pipe[0]);
    setpgid(0, 0);
    dup2(file_fd >= 0 ? file_fd : in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    ExecPrepared(v);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (file_fd >= 0) close(file_fd);
  close(exec_pipe[1]);
  char ignored;
  while (read(exec_pipe[0], &ignored, 1) < 0 && errno == EINTR) {
  }
  close(exec_pipe[0]);
  int in_fd = in[1];
  SetNonBlocking(in_fd);
  const uint64_t input_size = o.input_zeros > 0 ? o.input_zeros : o.input.size();
  static const std::vector<char> zeros(1 << 16, 0);
  if ((input_size == 0 && !o.keep_stdin_open) || file_fd >= 0) {
    close(in_fd);
    in_fd = -1;
  }
  EVP_MD_CTX* sha = EVP_MD_CTX_new();
  EVP_DigestInit_ex(sha, EVP_sha256(), nullptr);
  auto deadline = start + std::chrono::milliseconds(o.timeout_ms);
  auto next_tick = start;
  uint64_t written = 0;
  int fds[2] = {out[0], err[0]};
  std::vector<char> buf(1 << 16);
  bool killed = false;
  // Peak RSS comes from VmHWM samples: a forked child's ru_maxrss also counts the parent's
  // pages resident at fork time (exec records the old mm's high-water mark), which for a test
  // holding 100 MB of input would hide kproxy's own footprint.
  long sampled_rss = 0;
  while (fds[0] >= 0 || fds[1] >= 0) {
    auto now = Clock::now();
    if (now >= deadline) {
      r.timed_out = true;
      break;
    }
    if (o.on_tick && now >= next_tick) {
      next_tick = now + std::chrono::milliseconds(50);
      if (!o.on_tick(pid)) {
        killed = true;
        break;
      }
    }
    sampled_rss = std::max(sampled_rss, PeakRssKb(pid));
    bool pause_out = o.slow_stdout_bytes > 0;
    pollfd p[3] = {{pause_out ? -1 : fds[0], POLLIN, 0},
                   {fds[1], POLLIN, 0},
                   {(in_fd >= 0 && written < input_size) ? in_fd : -1, POLLOUT, 0}};
    if (poll(p, 3, pause_out ? 20 : 50) < 0 && errno != EINTR) break;
    if (pause_out && fds[0] >= 0) p[0].revents = POLLIN;  // a bounded read every 20 ms
    for (int i = 0; i < 2; ++i) {
      if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      size_t want = (i == 0 && pause_out) ? std::min(buf.size(), o.slow_stdout_bytes) : buf.size();
      if (i == 0 && pause_out) SetNonBlocking(fds[0]);
      ssize_t n = read(fds[i], buf.data(), want);
      if (n > 0) {
        if (i == 0) {
          EVP_DigestUpdate(sha, buf.data(), static_cast<size_t>(n));
          size_t keep =
              r.out.size() < o.keep_stdout ? std::min<size_t>(n, o.keep_stdout - r.out.size()) : 0;
          r.out.append(buf.data(), keep);
          r.out_bytes += static_cast<uint64_t>(n);
        } else {
          r.err.append(buf.data(), static_cast<size_t>(n));
        }
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(fds[i]);
        fds[i] = -1;
      }
    }
    if (in_fd >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      size_t len = static_cast<size_t>(std::min<uint64_t>(input_size - written, 1 << 16));
      const char* data = o.input_zeros > 0 ? zeros.data() : o.input.data() + written;
      ssize_t n = write(in_fd, data, len);
      if (n > 0) {
        written += static_cast<uint64_t>(n);
        r.in_bytes = written;
      }
      if (n < 0 && errno != EAGAIN && errno != EINTR) written = input_size;
      if (written == input_size && !o.keep_stdin_open) {
        close(in_fd);
        in_fd = -1;
      }
    }
  }
  if (r.timed_out || killed) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
  }
  for (int fd : fds)
    if (fd >= 0) close(fd);
  if (in_fd >= 0) close(in_fd);
  // The pipes are closed: wait (bounded) for the exit itself.
  int status = 0;
  rusage ru{};
  pid_t got = 0;
  auto reap_deadline = Clock::now() + std::chrono::seconds(10);
  while ((got = wait4(pid, &status, WNOHANG, &ru)) == 0 && Clock::now() < reap_deadline)
    usleep(10000);
  if (got != pid) {
    r.timed_out = true;
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    wait4(pid, &status, 0, &ru);
  }
  r.exit_code = (r.timed_out || killed) ? -1 : DecodeWaitStatus(status);
  r.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.max_rss_kb = sampled_rss > 0 ? sampled_rss : ru.ru_maxrss;
  r.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                  static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(sha, md, &n);
  EVP_MD_CTX_free(sha);
  r.out_sha256 = Hex(md, n);
  return r;
}

bool SimCluster::Start(std::vector<std::string> faults, bool proxy, std::string* error) {
  SimOptions o;
  o.proxy = proxy;
  o.faults = std::move(faults);
  return Start(std::move(o), error);
}

bool SimCluster::Start(SimOptions options, std::string* error) {
  sim = SimProcess::Start(options, error);
  if (!sim) return false;
  env = {"KUBECONFIG=" + sim->kubeconfig().string(), "HOME=" + home.path().string(),
         "XDG_CACHE_HOME=" + (home.path() / "cache").string(),
         "XDG_CONFIG_HOME=" + (home.path() / "config").string(),
         "KUBECTL_REMOTE_COMMAND_WEBSOCKETS="};
  return true;
}

ProcessResult SimCluster::Run(ProcessOptions options) const {
  if (!options.argv.empty() && options.argv[0] == "kproxy")
    options.argv[0] = KproxyBinary().string();
  std::vector<std::string> e = env;
  e.insert(e.end(), options.env.begin(), options.env.end());
  options.env = std::move(e);
  return RunProcess(options);
}

std::unique_ptr<PtySession> SimCluster::Pty(const std::vector<std::string>& args, int cols,
                                            int rows) const {
  std::vector<std::string> argv = {KproxyBinary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return PtySession::Start(argv, env, cols, rows);
}

std::unique_ptr<ChildProcess> SimCluster::Spawn(const std::vector<std::string>& args,
                                                const std::vector<std::string>& extra_env) const {
  static int counter = 0;
  std::string name = "kproxy-" + std::to_string(++counter);
  std::vector<std::string> argv = {KproxyBinary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> e = env;
  e.insert(e.end(), extra_env.begin(), extra_env.end());
  return ChildProcess::Start(argv, e, home.path() / (name + ".out"), home.path() / (name + ".err"));
}

ProcessResult SimCluster::Kproxy(std::vector<std::string> args, const std::string& input,
                                 int timeout_ms, std::vector<std::string> extra_env) const {
  ProcessOptions o;
  o.argv = std::move(args);
  o.argv.insert(o.argv.begin(), "kproxy");
  o.input = input;
  o.timeout_ms = timeout_ms;
  o.env = std::move(extra_env);
  return Run(std::move(o));
}

std::string SimCluster::SignIn(const std::string& route, const std::string& user,
                               const std::string& password) const {
  std::string redirect = "http://127.0.0.1:9/cb?state=e2e";
  std::string escaped;
  for (unsigned char c : redirect) {
    if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      escaped += static_cast<char>(c);
    } else {
      char b[4];
      snprintf(b, sizeof b, "%%%02X", c);
      escaped += b;
    }
  }
  HttpReply r =
      HttpsRequest(sim->ca_pem(), "POST", sim->proxy_url(route) + "/.pomerium/sign_in",
                   {"Content-Type: application/x-www-form-urlencoded"},
                   "user=" + user + "&password=" + password + "&pomerium_redirect_uri=" + escaped);
  std::string loc = r.Header("location");
  std::string key = "pomerium_jwt=";
  size_t at = loc.find(key);
  if (r.status != 302 || at == std::string::npos) return "";
  std::string jwt = loc.substr(at + key.size());
  return jwt.substr(0, jwt.find('&'));
}

std::unique_ptr<PtySession> PtySession::Start(const std::vector<std::string>& argv,
                                              const std::vector<std::string>& env, int cols,
                                              int rows) {
  ExecVectors v = PrepareExec(argv, env);
  winsize ws{};
  ws.ws_col = static_cast<unsigned short>(cols);
  ws.ws_row = static_cast<unsigned short>(rows);
  int master = -1, slave = -1;
  if (openpty(&master, &slave, nullptr, nullptr, &ws) != 0) return nullptr;
  termios initial{};
  tcgetattr(master, &initial);
  pid_t pid = fork();
  if (pid < 0) {
    close(master);
    close(slave);
    return nullptr;
  }
  if (pid == 0) {
    close(master);
    if (login_tty(slave) != 0) _exit(126);  // new session, slave as controlling terminal
    ExecPrepared(v);
  }
  close(slave);
  fcntl(master, F_SETFD, FD_CLOEXEC);
  SetNonBlocking(master);
  std::unique_ptr<PtySession> s(new PtySession());
  s->master_ = master;
  s->pid_ = pid;
  s->initial_ = initial;
  return s;
}

PtySession::~PtySession() {
  if (!reaped_ && pid_ > 0) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (master_ >= 0) close(master_);
}

bool PtySession::Write(const std::string& bytes) {
  size_t off = 0;
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (off < bytes.size() && Clock::now() < deadline) {
    ssize_t n = write(master_, bytes.data() + off, bytes.size() - off);
    if (n > 0)
      off += static_cast<size_t>(n);
    else if (n < 0 && errno != EAGAIN && errno != EINTR)
      return false;
    else
      ReadSome(10);
  }
  return off == bytes.size();
}

void PtySession::ReadSome(int timeout_ms) {
  pollfd p{master_, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0) return;
  char buf[8192];
  ssize_t n;
  while ((n = read(master_, buf, sizeof buf)) > 0) output_.append(buf, static_cast<size_t>(n));
}

bool PtySession::WaitFor(const std::string& needle, int timeout_ms, size_t from) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    if (output_.size() > from && output_.find(needle, from) != std::string::npos) return true;
    if (Clock::now() >= deadline) return false;
    // An exited child prints nothing more: stop early (WNOWAIT leaves it for Wait()).
    siginfo_t info{};
    if (!reaped_ &&
        waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid_) {
      ReadSome(0);
      return output_.size() > from && output_.find(needle, from) != std::string::npos;
    }
    ReadSome(50);
  }
}

void PtySession::Resize(int cols, int rows) {
  winsize ws{};
  ws.ws_col = static_cast<unsigned short>(cols);
  ws.ws_row = static_cast<unsigned short>(rows);
  ioctl(master_, TIOCSWINSZ, &ws);
}

std::optional<termios> PtySession::Modes() const {
  termios t{};
  if (tcgetattr(master_, &t) != 0) return std::nullopt;
  return t;
}

int PtySession::Wait(int timeout_ms, bool* timed_out) {
  if (timed_out) *timed_out = false;
  if (reaped_) return exit_code_;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    ReadSome(50);
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      ReadSome(0);
      reaped_ = true;
      exit_code_ = DecodeWaitStatus(status);
      return exit_code_;
    }
  }
  if (timed_out) *timed_out = true;
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  reaped_ = true;
  exit_code_ = -1;
  return exit_code_;
}

bool SameModes(const termios& a, const termios& b) {
  return a.c_iflag == b.c_iflag && a.c_oflag == b.c_oflag && a.c_cflag == b.c_cflag &&
         a.c_lflag == b.c_lflag && memcmp(a.c_cc, b.c_cc, sizeof a.c_cc) == 0;
}

}  // namespace kproxy::test
