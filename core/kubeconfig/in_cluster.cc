#include "core/kubeconfig/in_cluster.h"

#include "core/base/log.h"
#include "core/kubeconfig/kubeconfig_files.h"

namespace kproxy::kubeconfig {

Result<std::optional<RestConfig>> InClusterConfig(const KubeconfigEnvironment& env) {
  if (!env.getenv) return std::optional<RestConfig>();
  auto host = env.getenv("KUBERNETES_SERVICE_HOST");
  auto port = env.getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !port || host->empty() || port->empty()) return std::optional<RestConfig>();

  const std::string token_path = env.in_cluster_dir + "/token";
  auto token = ReadSmallFile(token_path);
  if (!token.ok()) return token.error();
  RestConfig cfg;
  // An IPv6 service host needs brackets (net.JoinHostPort).
  const bool v6 = host->find(':') != std::string::npos;
  cfg.server = "https://" + (v6 ? "[" + *host + "]" : *host) + ":" + *port;
  cfg.bearer_token = *token;
  while (!cfg.bearer_token.empty() &&
         (cfg.bearer_token.back() == '\n' || cfg.bearer_token.back() == '\r'))
    cfg.bearer_token.pop_back();
  cfg.token_file = token_path;  // projected tokens rotate: re-read it
  RegisterSecret(cfg.bearer_token);
  // client-go logs and continues without a CA when ca.crt is unreadable.
  const std::string ca_path = env.in_cluster_dir + "/ca.crt";
  if (auto ca = ReadSmallFile(ca_path); ca.ok()) {
    cfg.ca_data = *ca;
    cfg.ca_file = ca_path;
  } else {
    Log(1, "in-cluster CA not loaded: " + ca.error().message);
  }
  if (auto ns = ReadSmallFile(env.in_cluster_dir + "/namespace"); ns.ok()) {
    std::string n = *ns;
    while (!n.empty() && (n.back() == '\n' || n.back() == ' ')) n.pop_back();
    if (!n.empty()) cfg.namespace_ = n;
  }
  return std::optional<RestConfig>(std::move(cfg));
}

}  // namespace kproxy::kubeconfig
