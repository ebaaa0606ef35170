// Everything needed to talk to one API server: the result of kubeconfig + flags.
// Paths are already resolved; file contents that must be re-read (tokenFile) keep the path.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kproxy {

struct ExecEnvVar {
  std::string name;
  std::string value;
};

// kubeconfig users[].user.exec (client.authentication.k8s.io).
struct ExecPluginConfig {
  std::string api_version;  // client.authentication.k8s.io/v1 or /v1beta1
  std::string command;      // resolved against the kubeconfig's directory when it has a '/'
  std::vector<std::string> args;
  std::vector<ExecEnvVar> env;
  std::string install_hint;
  bool provide_cluster_info = false;
  std::string interactive_mode;  // Never | IfAvailable | Always ("" = version default)
};

// Legacy users[].user.auth-provider (gcp, oidc, azure...): kept so callers can say what it is.
struct AuthProviderConfig {
  std::string name;
  std::map<std::string, std::string> config;  // values may be secrets (tokens)
};

struct RestConfig {
  std::string server;  // https://host:port[/path]
  std::string context_name;
  std::string cluster_name;
  std::string user_name;
  std::string namespace_ = "default";

  // TLS
  std::string ca_data;  // PEM; empty = system roots
  std::string ca_file;  // where ca_data came from, for messages ("" if inline)
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
  std::string client_cert_data;  // PEM
  std::string client_key_data;   // PEM (secret)
  std::string proxy_url;         // http://, https://, socks5://; "" = environment
  bool disable_compression = false;
  std::string cluster_exec_config_json;  // extensions[client.authentication.k8s.io/exec] as JSON

  // Auth (at most one method)
  std::string bearer_token;  // secret
  std::string token_file;    // re-read at least every minute
  std::string username;
  std::string password;  // secret
  std::optional<ExecPluginConfig> exec;
  std::optional<AuthProviderConfig> auth_provider;

  // Impersonation
  std::string impersonate_user;
  std::vector<std::string> impersonate_groups;
  std::string impersonate_uid;
  std::map<std::string, std::vector<std::string>> impersonate_extra;

  std::chrono::milliseconds timeout{0};  // 0 = none
};

}  // namespace kproxy
