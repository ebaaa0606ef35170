// Runs kubeconfig users[].user.exec credential plugins exactly as client-go does
// (auth.md §2): PATH lookup, args, env added, KUBERNETES_EXEC_INFO, interactiveMode, stdin
// only when interactive, stderr passed through, stdout decoded and validated; the result is
// cached in-process until its expirationTimestamp and dropped on a 401.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "auth/auth_env.h"
#include "auth/exec_credential.h"
#include "core/base/result.h"
#include "core/kubeconfig/rest_config.h"

namespace kproxy::auth {

struct ExecPluginContext {
  // Is stdin a terminal that kproxy itself is not using (e.g. not `exec -i`)?
  bool stdin_available_for_prompt = false;
  // PATH lookup and the environment passed on (added to, never replaced).
  std::function<std::optional<std::string>(const std::string&)> getenv;
  std::function<SystemTime()> now;
};

// Consumes the exec config (+ the cluster info for provideClusterInfo); runs the plugin once;
// returns its validated status. Errors: kConfig for a bad config or a missing binary (with the
// installHint), kUnauthenticated for a failing plugin ("getting credentials: exec: executable
// X failed with exit code N") or bad output.
Result<ExecCredentialStatus> RunExecPlugin(const ExecPluginConfig& config,
                                           const std::optional<ExecClusterInfo>& cluster,
                                           const ExecPluginContext& context);

// The cluster info client-go passes with provideClusterInfo: true.
ExecClusterInfo ClusterInfoFrom(const RestConfig& config);

// In-process cache around RunExecPlugin: one plugin run per expiry, thread-safe.
class ExecCredentialCache {
 public:
  ExecCredentialCache(ExecPluginConfig config, std::optional<ExecClusterInfo> cluster,
                      ExecPluginContext context)
      : config_(std::move(config)), cluster_(std::move(cluster)), context_(std::move(context)) {}

  // The cached status while it has not expired, else a fresh plugin run.
  Result<ExecCredentialStatus> Get();
  // Drops the cached status (after a 401) so the next Get runs the plugin again.
  void Invalidate();

 private:
  ExecPluginConfig config_;
  std::optional<ExecClusterInfo> cluster_;
  ExecPluginContext context_;
  std::mutex mu_;
  std::optional<ExecCredentialStatus> cached_;
};

}  // namespace kproxy::auth
