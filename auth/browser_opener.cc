#include "auth/browser_opener.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <vector>

extern char** environ;

namespace kproxy::auth {
namespace {

// Launchers still running; reaped later so none stays a zombie in a long-lived process.
// Only our own pids: waitpid(-1) would steal other children's exit statuses.
std::mutex g_mu;
std::vector<pid_t>& Pending() {
  static std::vector<pid_t> pids;
  return pids;
}

void ReapFinished() {
  std::lock_guard<std::mutex> lock(g_mu);
  auto& pids = Pending();
  std::erase_if(pids, [](pid_t p) { return ::waitpid(p, nullptr, WNOHANG) != 0; });
}

Status Launch(const std::string& command, const std::string& url) {
  // "$1" is the URL; %s placement follows the $BROWSER convention.
  std::string script = command;
  if (size_t p = script.find("%s"); p != std::string::npos) {
    script.replace(p, 2, "\"$1\"");
  } else {
    script += " \"$1\"";
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
  std::vector<std::string> args = {"sh", "-c", script, "kproxy-browser", url};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, "/bin/sh", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    return MakeError(ErrorCode::kUnavailable,
                     std::string("cannot start the browser launcher: ") + std::strerror(rc));
  }
  // A launcher that exits at once with an error (no display, command not found) is worth
  // a warning; one still running is a browser doing its job.
  for (int i = 0; i < 5; ++i) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
      return MakeError(ErrorCode::kUnavailable,
                       "the browser launcher \"" + command + "\" failed; open the URL yourself");
    }
    ::usleep(20 * 1000);
  }
  std::lock_guard<std::mutex> lock(g_mu);
  Pending().push_back(pid);
  return Status::Ok();
}

}  // namespace

BrowserOpener MakeProcessBrowserOpener(
    std::string browser_cmd, std::function<std::optional<std::string>(const std::string&)> getenv) {
  return [browser_cmd = std::move(browser_cmd),
          getenv = std::move(getenv)](const std::string& url) -> Status {
    ReapFinished();
    std::string cmd = browser_cmd;
    if (cmd.empty()) {
      if (auto b = getenv("BROWSER"); b && !b->empty()) cmd = *b;
    }
    if (cmd.empty()) cmd = "xdg-open";
    return Launch(cmd, url);
  };
}

}  // namespace kproxy::auth
