#include "core/kubeconfig/loader.h"

#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <climits>

#include "core/base/log.h"
#include "core/kubeconfig/config_view.h"
#include "core/kubeconfig/in_cluster.h"
#include "core/kubeconfig/kubeconfig_files.h"
#include "core/kubeconfig/request_timeout.h"
#include "core/kubeconfig/select.h"

namespace kproxy {

KubeconfigEnvironment KubeconfigEnvironment::Process() {
  KubeconfigEnvironment env;
  env.getenv = [](const std::string& name) -> std::optional<std::string> {
    const char* v = ::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
  if (const char* home = ::getenv("HOME")) env.home_dir = home;
  char buf[PATH_MAX];
  if (::getcwd(buf, sizeof buf)) env.cwd = buf;
  return env;
}

namespace kubeconfig {
namespace {

constexpr const char* kExecExtension = "client.authentication.k8s.io/exec";

Error ConfigError(std::string msg) { return MakeError(ErrorCode::kConfig, std::move(msg)); }

// Reads a file a kubeconfig entry points at, with client-go's message on failure.
Result<std::string> ReadReferenced(const std::string& what, const std::string& path,
                                   const std::string& owner) {
  auto data = ReadSmallFile(path);
  if (!data.ok()) {
    return ConfigError("unable to read " + what + " " + path + " for " + owner + " due to " +
                       data.error().message);
  }
  return data;
}

bool ValidProxyScheme(const std::string& url) {
  for (const char* s : {"http://", "https://", "socks5://"})
    if (url.rfind(s, 0) == 0) return true;
  return false;
}

Status FillCluster(const std::string& name, Cluster cluster, const ConfigOverrides& o,
                   const KubeconfigEnvironment& env, RestConfig& rc) {
  const std::string dir = DirName(cluster.origin);
  cluster.certificate_authority = ResolvePath(cluster.certificate_authority, dir);
  if (o.server) cluster.server = *o.server;
  // client-go: --insecure-skip-tls-verify or --certificate-authority on the command line replace
  // the file's CA settings wholesale, so a file CA does not clash with the insecure flag.
  const bool cli_insecure = o.insecure_skip_tls_verify.value_or(false);
  if (cli_insecure || o.certificate_authority) {
    cluster.insecure_skip_tls_verify = cli_insecure;
    cluster.certificate_authority =
        o.certificate_authority ? ResolvePath(*o.certificate_authority, env.cwd) : "";
    cluster.certificate_authority_data.clear();
  }
  // --server clears the file's tls-server-name unless --tls-server-name is also given.
  if (o.tls_server_name || o.server) cluster.tls_server_name = o.tls_server_name.value_or("");

  if (cluster.server.empty()) {
    return ConfigError("no server found for cluster \"" + name + "\"");
  }
  if (cluster.insecure_skip_tls_verify &&
      (!cluster.certificate_authority.empty() || !cluster.certificate_authority_data.empty())) {
    return ConfigError("specifying a root certificates file with the insecure flag is not allowed");
  }
  if (!cluster.proxy_url.empty() && !ValidProxyScheme(cluster.proxy_url)) {
    return ConfigError("proxy-url \"" + cluster.proxy_url + "\" for cluster \"" + name +
                       "\" is not supported: use http://, https:// or socks5://");
  }
  rc.server = cluster.server;
  if (rc.server.find("://") == std::string::npos) {
    rc.server = "https://" + rc.server;  // client-go's DefaultServerURL for host:port
  } else if (rc.server.rfind("https://", 0) != 0 && rc.server.rfind("http://", 0) != 0) {
    return ConfigError("invalid configuration: server \"" + cluster.server + "\" for cluster \"" +
                       name + "\" is not an http or https URL");
  }
  // certificate-authority-data wins over certificate-authority.
  if (!cluster.certificate_authority_data.empty()) {
    rc.ca_data = cluster.certificate_authority_data;
  } else if (!cluster.certificate_authority.empty()) {
    auto ca = ReadReferenced("certificate-authority", cluster.certificate_authority, name);
    if (!ca.ok()) return ca.error();
    rc.ca_data = *ca;
    rc.ca_file = cluster.certificate_authority;
  }
  rc.insecure_skip_tls_verify = cluster.insecure_skip_tls_verify;
  rc.tls_server_name = cluster.tls_server_name;
  rc.proxy_url = cluster.proxy_url;
  rc.disable_compression = cluster.disable_compression;
  for (const auto& ext : cluster.extensions)
    if (ext.name == kExecExtension) rc.cluster_exec_config_json = ext.extension.dump();
  return Status::Ok();
}

// Command-line credentials replace every credential the file had for this user.
void ApplyAuthOverrides(const ConfigOverrides& o, const KubeconfigEnvironment& env, AuthInfo& u) {
  if (o.token || o.username || o.password || o.client_certificate || o.client_key) {
    AuthInfo fresh;
    fresh.origin = u.origin;
    fresh.as = u.as;
    fresh.as_uid = u.as_uid;
    fresh.as_groups = u.as_groups;
    fresh.as_user_extra = u.as_user_extra;
    u = std::move(fresh);
    u.token = o.token.value_or("");
    u.username = o.username.value_or("");
    u.password = o.password.value_or("");
    // Command-line paths are relative to the working directory, not a kubeconfig.
    u.client_certificate = ResolvePath(o.client_certificate.value_or(""), env.cwd);
    u.client_key = ResolvePath(o.client_key.value_or(""), env.cwd);
    u.origin.clear();
  }
  if (o.as) u.as = *o.as;
  if (!o.as_groups.empty()) u.as_groups = o.as_groups;
  if (o.as_uid) u.as_uid = *o.as_uid;
}

Status ValidateExec(const std::string& name, const Exec& e) {
  const std::string tail = " for " + name + " to use exec authentication plugin";
  if (e.command.empty()) return ConfigError("command must be specified" + tail);
  if (e.api_version.empty()) return ConfigError("apiVersion must be specified" + tail);
  if (e.api_version != "client.authentication.k8s.io/v1" &&
      e.api_version != "client.authentication.k8s.io/v1beta1") {
    return ConfigError("exec plugin: invalid apiVersion \"" + e.api_version + "\" for " + name);
  }
  for (const auto& var : e.env.value_or(std::vector<ExecEnv>{}))
    if (var.name.empty()) return ConfigError("env variable name must be specified" + tail);
  if (e.interactive_mode.empty()) {
    if (e.api_version == "client.authentication.k8s.io/v1")
      return ConfigError("interactiveMode must be specified" + tail);
  } else if (e.interactive_mode != "Never" && e.interactive_mode != "IfAvailable" &&
             e.interactive_mode != "Always") {
    return ConfigError("invalid interactiveMode for " + name + ": \"" + e.interactive_mode + "\"");
  }
  return Status::Ok();
}

void RegisterUserSecrets(const AuthInfo& u) {
  RegisterSecret(u.token);
  RegisterSecret(u.password);
  RegisterSecret(u.client_key_data);
  if (u.exec && u.exec->env)
    for (const auto& var : *u.exec->env)
      if (IsSecretName(var.name)) RegisterSecret(var.value);
  if (u.auth_provider)
    for (const auto& [key, value] : u.auth_provider->config)
      if (IsSecretName(key)) RegisterSecret(value);
}

Status FillUser(const std::string& name, AuthInfo u, const ConfigOverrides& o,
                const KubeconfigEnvironment& env, RestConfig& rc) {
  ApplyAuthOverrides(o, env, u);
  RegisterUserSecrets(u);
  const std::string dir = DirName(u.origin);
  u.client_certificate = ResolvePath(u.client_certificate, dir);
  u.client_key = ResolvePath(u.client_key, dir);
  u.token_file = ResolvePath(u.token_file, dir);

  // Client-go's validateAuthInfo, in its order; the first problem is reported.
  std::vector<std::string> methods;
  if (!u.token.empty() || !u.token_file.empty()) methods.push_back("token");
  if (!u.username.empty() || !u.password.empty()) methods.push_back("basicAuth");
  const bool has_cert = !u.client_certificate.empty() || !u.client_certificate_data.empty();
  const bool has_key = !u.client_key.empty() || !u.client_key_data.empty();
  if (has_cert || has_key) {
    methods.push_back("clientCert");
    if (!has_key) {
      return ConfigError("client-key-data or client-key must be specified for " + name +
                         " to use the clientCert authentication method.");
    }
    if (!has_cert) {
      return ConfigError("client-certificate-data or client-certificate must be specified for " +
                         name + " to use the clientCert authentication method.");
    }
    // Data wins over the file, as for the CA.
    if (!u.client_certificate_data.empty()) {
      rc.client_cert_data = u.client_certificate_data;
    } else {
      auto cert = ReadReferenced("client-cert", u.client_certificate, name);
      if (!cert.ok()) return cert.error();
      rc.client_cert_data = *cert;
    }
    if (!u.client_key_data.empty()) {
      rc.client_key_data = u.client_key_data;
    } else {
      auto key = ReadReferenced("client-key", u.client_key, name);
      if (!key.ok()) return key.error();
      rc.client_key_data = *key;
      RegisterSecret(rc.client_key_data);
    }
  }
  if (u.exec) {
    if (Status s = ValidateExec(name, *u.exec); !s.ok()) return s;
  }
  // An auth-provider also identifies the server, so client-go allows it alongside others.
  if (methods.size() > 1 && !u.auth_provider) {
    std::string list;
    for (const auto& m : methods) list += (list.empty() ? "" : " ") + m;
    return ConfigError("more than one authentication method found for " + name + "; found [" +
                       list + "], only one is allowed");
  }
  if (u.as.empty() && (!u.as_uid.empty() || !u.as_groups.empty() || !u.as_user_extra.empty())) {
    return ConfigError("requesting uid, groups or user-extra for " + name +
                       " without impersonating a user");
  }
  if (!u.token_file.empty()) {
    auto token = ReadReferenced("tokenFile", u.token_file, name);
    if (!token.ok()) return token.error();
    RegisterSecret(*token);
  }

  rc.bearer_token = u.token;
  rc.token_file = u.token_file;
  rc.username = u.username;
  rc.password = u.password;
  if (u.exec) {
    ExecPluginConfig e;
    e.api_version = u.exec->api_version;
    // Only a command with a '/' is a path relative to the kubeconfig; a bare name uses PATH.
    e.command = u.exec->command.find('/') != std::string::npos ? ResolvePath(u.exec->command, dir)
                                                               : u.exec->command;
    e.args = u.exec->args.value_or(std::vector<std::string>{});
    for (const auto& var : u.exec->env.value_or(std::vector<ExecEnv>{}))
      e.env.push_back({var.name, var.value});
    e.install_hint = u.exec->install_hint;
    e.provide_cluster_info = u.exec->provide_cluster_info;
    e.interactive_mode = u.exec->interactive_mode;
    rc.exec = std::move(e);
  }
  if (u.auth_provider)
    rc.auth_provider = AuthProviderConfig{u.auth_provider->name, u.auth_provider->config};
  rc.impersonate_user = u.as;
  rc.impersonate_groups = u.as_groups;
  rc.impersonate_uid = u.as_uid;
  rc.impersonate_extra = u.as_user_extra;
  return Status::Ok();
}

bool IsEmpty(const Config& c) {
  return c.clusters.empty() && c.users.empty() && c.contexts.empty() && c.current_context.empty();
}

Result<RestConfig> FromInCluster(RestConfig rc, const ConfigOverrides& o) {
  if (o.namespace_ && !o.namespace_->empty()) rc.namespace_ = *o.namespace_;
  if (o.token) {
    rc.bearer_token = *o.token;
    rc.token_file.clear();
    RegisterSecret(*o.token);
  }
  if (o.as) rc.impersonate_user = *o.as;
  if (!o.as_groups.empty()) rc.impersonate_groups = o.as_groups;
  if (o.as_uid) rc.impersonate_uid = *o.as_uid;
  if (rc.impersonate_user.empty() &&
      (!rc.impersonate_groups.empty() || !rc.impersonate_uid.empty())) {
    return ConfigError(
        "requesting uid, groups or user-extra for in-cluster without "
        "impersonating a user");
  }
  return rc;
}

}  // namespace
}  // namespace kubeconfig

Result<RestConfig> LoadRestConfig(const ConfigOverrides& o, const KubeconfigEnvironment& env) {
  using namespace kubeconfig;  // NOLINT: implementation file
  std::chrono::milliseconds timeout{0};
  if (o.request_timeout) {
    auto t = ParseRequestTimeout(*o.request_timeout);
    if (!t.ok()) return t.error();
    timeout = *t;
  }
  auto sources = KubeconfigSources(o.kubeconfig, env);
  if (!sources.ok()) return sources.error();
  if (Verbosity() >= 6) {
    std::string files;
    for (const auto& src : *sources) files += (files.empty() ? "" : ", ") + src.path;
    Log(6, "kubeconfig files: " + (files.empty() ? std::string("(none)") : files));
  }
  auto merged = LoadMergedConfig(*sources);
  if (!merged.ok()) return merged.error();

  if (IsEmpty(*merged) && !o.server && !o.context && !o.cluster && !o.user) {
    auto in_cluster = InClusterConfig(env);
    if (!in_cluster.ok()) return in_cluster.error();
    if (!*in_cluster) {
      return ConfigError(
          "invalid configuration: no configuration has been provided (no kubeconfig file "
          "found, $KUBECONFIG unset or empty, and not running in a cluster)");
    }
    auto rc = FromInCluster(std::move(**in_cluster), o);
    if (rc.ok()) rc->timeout = timeout;
    return rc;
  }

  auto sel = Select(*merged, o);
  if (!sel.ok()) return sel.error();
  RestConfig rc;
  rc.context_name = sel->context;
  rc.cluster_name = sel->cluster;
  rc.user_name = sel->user;
  rc.namespace_ = sel->namespace_;
  rc.timeout = timeout;

  Cluster cluster;
  if (!sel->cluster.empty()) cluster = merged->clusters.at(sel->cluster);
  if (Status s = FillCluster(sel->cluster, std::move(cluster), o, env, rc); !s.ok())
    return s.error();
  AuthInfo user;
  if (!sel->user.empty()) user = merged->users.at(sel->user);
  if (Status s = FillUser(sel->user, std::move(user), o, env, rc); !s.ok()) return s.error();
  return rc;
}

}  // namespace kproxy
