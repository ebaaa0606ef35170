#include "auth/exec_plugin.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include "core/base/log.h"

extern char** environ;

namespace kproxy::auth {
namespace {

// An ExecCredential is a few KB (a cert chain at most); refuse to buffer more.
constexpr size_t kMaxPluginOutput = 1024 * 1024;

bool IsExecutableFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// Bare names go through PATH like exec.LookPath; names with a '/' are used as they are
// (the kubeconfig loader already resolved relative ones against the file's directory).
std::optional<std::string> LookPath(const std::string& command, const ExecPluginContext& ctx) {
  if (command.find('/') != std::string::npos) {
    if (IsExecutableFile(command)) return command;
    return std::nullopt;
  }
  std::string path = ctx.getenv("PATH").value_or("/usr/local/bin:/usr/bin:/bin");
  size_t start = 0;
  while (start <= path.size()) {
    size_t colon = path.find(':', start);
    std::string dir =
        path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + command;
    if (IsExecutableFile(candidate)) return candidate;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return std::nullopt;
}

Error NotFound(const ExecPluginConfig& c) {
  std::string msg = "exec: executable " + c.command + " not found";
  msg +=
      "\n\nIt looks like you are trying to use a client-go credential plugin that is not "
      "installed.";
  if (!c.install_hint.empty()) msg += "\n\n" + c.install_hint;
  return MakeError(ErrorCode::kConfig, msg);
}

}  // namespace

ExecClusterInfo ClusterInfoFrom(const RestConfig& config) {
  ExecClusterInfo c;
  c.server = config.server;
  c.tls_server_name = config.tls_server_name;
  c.insecure_skip_tls_verify = config.insecure_skip_tls_verify;
  c.certificate_authority_data = config.ca_data;
  c.proxy_url = config.proxy_url;
  c.disable_compression = config.disable_compression;
  c.config_json = config.cluster_exec_config_json;
  return c;
}

Result<ExecCredentialStatus> RunExecPlugin(const ExecPluginConfig& config,
                                           const std::optional<ExecClusterInfo>& cluster,
                                           const ExecPluginContext& ctx) {
  if (!IsSupportedExecApiVersion(config.api_version)) {
    return MakeError(ErrorCode::kConfig,
                     "exec plugin: invalid apiVersion \"" + config.api_version + "\"");
  }
  std::string mode = config.interactive_mode;
  if (mode.empty()) {
    // v1 made interactiveMode mandatory; v1beta1 defaults to IfAvailable.
    if (config.api_version == kExecApiV1) {
      return MakeError(ErrorCode::kConfig, "interactiveMode must be specified for " +
                                               config.api_version +
                                               " to use exec authentication plugin");
    }
    mode = "IfAvailable";
  }
  bool interactive;
  if (mode == "Never") {
    interactive = false;
  } else if (mode == "IfAvailable") {
    interactive = ctx.stdin_available_for_prompt;
  } else if (mode == "Always") {
    if (!ctx.stdin_available_for_prompt) {
      return MakeError(ErrorCode::kLoginRequired,
                       "exec plugin cannot support interactive mode: standard input is not a "
                       "terminal");
    }
    interactive = true;
  } else {
    return MakeError(ErrorCode::kConfig, "exec plugin: invalid interactiveMode \"" + mode + "\"");
  }
  auto binary = LookPath(config.command, ctx);
  if (!binary) return NotFound(config);

  ExecInfo info;
  info.api_version = config.api_version;
  info.interactive = interactive;
  if (config.provide_cluster_info && cluster) info.cluster = *cluster;

  // The environment: ours, plus the config's env (overriding same names), plus the info.
  std::vector<std::string> env_strings;
  std::set<std::string> overridden;
  for (const auto& e : config.env) overridden.insert(e.name);
  overridden.insert("KUBERNETES_EXEC_INFO");
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    if (overridden.count(entry.substr(0, entry.find('=')))) continue;
    env_strings.push_back(entry);
  }
  for (const auto& e : config.env) env_strings.push_back(e.name + "=" + e.value);
  env_strings.push_back("KUBERNETES_EXEC_INFO=" + EncodeExecInfo(info));
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = {config.command};
  args.insert(args.end(), config.args.begin(), config.args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return MakeError(ErrorCode::kInternal, std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  // stdin only when interactive (client-go passes os.Stdin then, nothing otherwise).
  if (!interactive) posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], STDOUT_FILENO);
  pid_t pid = 0;
  Log(4, "running exec credential plugin " + *binary);
  int rc = ::posix_spawn(&pid, binary->c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(out_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    if (rc == ENOENT) return NotFound(config);
    return MakeError(ErrorCode::kUnauthenticated,
                     "getting credentials: exec: " + config.command + ": " + std::strerror(rc));
  }
  std::string output;
  bool too_big = false;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(out_pipe[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (output.size() + static_cast<size_t>(n) > kMaxPluginOutput) {
      too_big = true;
      break;
    }
    output.append(buf, static_cast<size_t>(n));
  }
  ::close(out_pipe[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    return MakeError(ErrorCode::kUnauthenticated, "getting credentials: exec: executable " +
                                                      config.command + " failed with exit code " +
                                                      std::to_string(WEXITSTATUS(status)));
  }
  if (WIFSIGNALED(status)) {
    return MakeError(ErrorCode::kUnauthenticated, "getting credentials: exec: executable " +
                                                      config.command + " was killed by signal " +
                                                      std::to_string(WTERMSIG(status)));
  }
  if (too_big) {
    return MakeError(ErrorCode::kUnauthenticated,
                     "getting credentials: exec: plugin output exceeds 1 MiB");
  }
  auto cred = DecodeExecCredential(output, config.api_version);
  if (!cred) {
    return MakeError(cred.error().code, "getting credentials: " + cred.error().message);
  }
  RegisterSecret(cred->token);
  RegisterSecret(cred->client_key_data);
  return cred;
}

Result<ExecCredentialStatus> ExecCredentialCache::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  if (cached_ && (!cached_->expiration || context_.now() < *cached_->expiration)) {
    return *cached_;
  }
  cached_.reset();
  auto fresh = RunExecPlugin(config_, cluster_, context_);
  if (!fresh) return fresh.error();
  cached_ = *fresh;
  return fresh;
}

void ExecCredentialCache::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  cached_.reset();
}

}  // namespace kproxy::auth
