#include "tests/support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "tests/support/test_env.h"

extern char** environ;

namespace kproxy::test {

ExecVectors PrepareExec(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  ExecVectors v;
  v.storage_argv = argv;
  for (char** e = environ; *e; ++e) {
    std::string s(*e);
    std::string name = s.substr(0, s.find('='));
    bool overridden = false;
    for (const std::string& add : env)
      if (add.substr(0, add.find('=')) == name) overridden = true;
    if (!overridden) v.storage_env.push_back(s);
  }
  // A later addition overrides an earlier one of the same name (getenv takes the first).
  for (size_t i = 0; i < env.size(); ++i) {
    std::string name = env[i].substr(0, env[i].find('='));
    bool later = false;
    for (size_t j = i + 1; j < env.size(); ++j)
      if (env[j].substr(0, env[j].find('=')) == name) later = true;
    if (!later) v.storage_env.push_back(env[i]);
  }
  for (std::string& s : v.storage_argv) v.argv.push_back(s.data());
  v.argv.push_back(nullptr);
  for (std::string& s : v.storage_env) v.envp.push_back(s.data());
  v.envp.push_back(nullptr);
  return v;
}

[[noreturn]] void ExecPrepared(ExecVectors& v) {
  signal(SIGPIPE, SIG_DFL);
  execve(v.argv[0], v.argv.data(), v.envp.data());
  _exit(127);
}

int DecodeWaitStatus(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::unique_ptr<ChildProcess> ChildProcess::Start(const std::vector<std::string>& argv,
                                                  const std::vector<std::string>& env,
                                                  const std::filesystem::path& out,
                                                  const std::filesystem::path& err) {
  ExecVectors v = PrepareExec(argv, env);
  // Opened before fork: the child only dup2s.
  int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  int e = err.empty()
              ? -1
              : open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in, 0);
    dup2(o, 1);
    dup2(e >= 0 ? e : o, 2);
    ExecPrepared(v);
  }
  for (int fd : {o, e, in})
    if (fd >= 0) close(fd);
  if (pid < 0) return nullptr;
  std::unique_ptr<ChildProcess> c(new ChildProcess());
  c->pid_ = pid;
  c->out_ = out;
  c->err_ = err.empty() ? out : err;
  return c;
}

ChildProcess::~ChildProcess() { Kill(); }

bool ChildProcess::Alive() {
  if (reaped_ || pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return true;
  reaped_ = true;
  signaled_ = WIFSIGNALED(status);
  exit_code_ = DecodeWaitStatus(status);
  return false;
}

int ChildProcess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Alive()) {
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_code_;
}

int ChildProcess::Signal(int signo, std::chrono::milliseconds timeout) {
  if (Alive()) kill(pid_, signo);
  return Wait(timeout);
}

int ChildProcess::Kill() {
  if (!Alive()) return exit_code_;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  reaped_ = true;
  signaled_ = WIFSIGNALED(status);
  exit_code_ = DecodeWaitStatus(status);
  return exit_code_;
}

std::string ChildProcess::out() const { return ReadFileOrEmpty(out_); }
std::string ChildProcess::err() const { return ReadFileOrEmpty(err_); }

}  // namespace kproxy::test
