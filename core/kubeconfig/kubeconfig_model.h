// The kubeconfig file model (clientcmd/api/v1), as read from disk: fields keep their raw,
// unresolved values so `config view` can show them as kubectl does; `origin` remembers the
// file that defined each named entry so relative paths resolve against its directory.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kproxy::kubeconfig {

using Json = nlohmann::ordered_json;

struct NamedExtension {
  std::string name;
  Json extension;  // arbitrary object (e.g. client.authentication.k8s.io/exec config)
};

struct Cluster {
  std::string origin;  // absolute path of the defining file
  std::string server;
  std::string tls_server_name;
  bool insecure_skip_tls_verify = false;
  std::string certificate_authority;       // path as written
  std::string certificate_authority_data;  // decoded bytes (base64 in the file)
  std::string proxy_url;
  bool disable_compression = false;
  std::vector<NamedExtension> extensions;
};

struct ExecEnv {
  std::string name;
  std::string value;
};

struct Exec {
  std::string command;
  std::optional<std::vector<std::string>> args;  // nullopt: absent (kubectl shows null)
  std::optional<std::vector<ExecEnv>> env;
  std::string api_version;
  std::string install_hint;
  bool provide_cluster_info = false;
  std::string interactive_mode;
};

struct AuthProvider {
  std::string name;
  std::map<std::string, std::string> config;
};

struct AuthInfo {
  std::string origin;
  std::string client_certificate;
  std::string client_certificate_data;  // decoded
  std::string client_key;
  std::string client_key_data;  // decoded, secret
  std::string token;            // secret
  std::string token_file;
  std::string as;
  std::string as_uid;
  std::vector<std::string> as_groups;
  std::map<std::string, std::vector<std::string>> as_user_extra;
  std::string username;
  std::string password;  // secret
  std::optional<AuthProvider> auth_provider;
  std::optional<Exec> exec;
  std::vector<NamedExtension> extensions;
};

struct Context {
  std::string origin;
  std::string cluster;
  std::string user;
  std::string namespace_;
  std::vector<NamedExtension> extensions;
};

// One file, or the merge of several. Maps are keyed (and so listed) by name, as kubectl does.
struct Config {
  std::map<std::string, Cluster> clusters;
  std::map<std::string, AuthInfo> users;
  std::map<std::string, Context> contexts;
  std::string current_context;
  Json preferences = Json::object();  // {colors, extensions}
  std::vector<NamedExtension> extensions;
};

}  // namespace kproxy::kubeconfig
