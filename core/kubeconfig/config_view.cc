#include "core/kubeconfig/config_view.h"

#include <openssl/evp.h>

#include <cctype>

namespace kproxy::kubeconfig {
namespace {

constexpr const char* kRedacted = "REDACTED";
constexpr const char* kDataOmitted = "DATA+OMITTED";

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

class Viewer {
 public:
  explicit Viewer(bool raw) : raw_(raw) {}

  Json Extensions(const std::vector<NamedExtension>& exts) const {
    Json out = Json::array();
    for (const auto& e : exts) out.push_back(Json{{"name", e.name}, {"extension", e.extension}});
    return out;
  }

  // Field order follows k8s.io/client-go/tools/clientcmd/api/v1 types; omitempty as there.
  Json ClusterJson(const Cluster& c) const {
    Json j = Json::object();
    j["server"] = c.server;
    if (!c.tls_server_name.empty()) j["tls-server-name"] = c.tls_server_name;
    if (c.insecure_skip_tls_verify) j["insecure-skip-tls-verify"] = true;
    if (!c.certificate_authority.empty()) j["certificate-authority"] = c.certificate_authority;
    if (!c.certificate_authority_data.empty())
      j["certificate-authority-data"] = Data(c.certificate_authority_data);
    if (!c.proxy_url.empty()) j["proxy-url"] = c.proxy_url;
    if (c.disable_compression) j["disable-compression"] = true;
    if (!c.extensions.empty()) j["extensions"] = Extensions(c.extensions);
    return j;
  }

  Json ExecJson(const Exec& e) const {
    Json j = Json::object();
    j["command"] = e.command;
    j["args"] = e.args ? Json(*e.args) : Json(nullptr);
    if (e.env) {
      Json env = Json::array();
      for (const auto& v : *e.env) {
        // kubectl prints these; tokens passed to plugins this way are secrets all the same.
        env.push_back(
            Json{{"name", v.name}, {"value", !raw_ && IsSecretName(v.name) ? kRedacted : v.value}});
      }
      j["env"] = env;
    } else {
      j["env"] = nullptr;
    }
    if (!e.api_version.empty()) j["apiVersion"] = e.api_version;
    if (!e.install_hint.empty()) j["installHint"] = e.install_hint;
    j["provideClusterInfo"] = e.provide_cluster_info;
    if (!e.interactive_mode.empty()) j["interactiveMode"] = e.interactive_mode;
    return j;
  }

  Json UserJson(const AuthInfo& u) const {
    Json j = Json::object();
    if (!u.client_certificate.empty()) j["client-certificate"] = u.client_certificate;
    if (!u.client_certificate_data.empty())
      j["client-certificate-data"] = Data(u.client_certificate_data);
    if (!u.client_key.empty()) j["client-key"] = u.client_key;
    if (!u.client_key_data.empty()) j["client-key-data"] = Data(u.client_key_data);
    if (!u.token.empty()) j["token"] = raw_ ? u.token : kRedacted;
    if (!u.token_file.empty()) j["tokenFile"] = u.token_file;
    if (!u.as.empty()) j["as"] = u.as;
    if (!u.as_uid.empty()) j["as-uid"] = u.as_uid;
    if (!u.as_groups.empty()) j["as-groups"] = u.as_groups;
    if (!u.as_user_extra.empty()) {
      Json extra = Json::object();
      for (const auto& [k, v] : u.as_user_extra) extra[k] = v;
      j["as-user-extra"] = extra;
    }
    if (!u.username.empty()) j["username"] = u.username;
    if (!u.password.empty()) j["password"] = raw_ ? u.password : kRedacted;
    if (u.auth_provider) {
      Json cfg = Json::object();
      for (const auto& [k, v] : u.auth_provider->config)
        cfg[k] = !raw_ && IsSecretName(k) ? kRedacted : v;
      j["auth-provider"] = Json{{"name", u.auth_provider->name},
                                {"config", u.auth_provider->config.empty() ? Json(nullptr) : cfg}};
    }
    if (u.exec) j["exec"] = ExecJson(*u.exec);
    if (!u.extensions.empty()) j["extensions"] = Extensions(u.extensions);
    return j;
  }

  Json ContextJson(const Context& c) const {
    Json j = Json::object();
    j["cluster"] = c.cluster;
    j["user"] = c.user;
    if (!c.namespace_.empty()) j["namespace"] = c.namespace_;
    if (!c.extensions.empty()) j["extensions"] = Extensions(c.extensions);
    return j;
  }

 private:
  Json Data(const std::string& bytes) const { return raw_ ? Base64(bytes) : kDataOmitted; }
  bool raw_;
};

}  // namespace

bool IsSecretName(const std::string& name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* word : {"token", "secret", "password", "passwd", "key", "credential"})
    if (lower.find(word) != std::string::npos) return true;
  return false;
}

Result<Json> ConfigToViewJson(const Config& input, const ViewOptions& options) {
  const Config* config = &input;
  Config minified;
  if (options.minify) {
    const std::string name = options.context.value_or(input.current_context);
    if (name.empty())
      return MakeError(ErrorCode::kConfig, "current-context must exist in order to minify");
    auto ctx = input.contexts.find(name);
    if (ctx == input.contexts.end())
      return MakeError(ErrorCode::kNotFound, "cannot locate context " + name);
    minified.current_context = name;
    minified.preferences = input.preferences;
    minified.extensions = input.extensions;
    minified.contexts.insert(*ctx);
    if (auto c = input.clusters.find(ctx->second.cluster); c != input.clusters.end())
      minified.clusters.insert(*c);
    if (auto u = input.users.find(ctx->second.user); u != input.users.end())
      minified.users.insert(*u);
    config = &minified;
  }
  Viewer v(options.raw);
  auto named = [](const auto& map, const char* inner, auto fn) {
    if (map.empty()) return Json(nullptr);  // Go marshals a nil slice as null
    Json list = Json::array();
    for (const auto& [name, value] : map) list.push_back(Json{{"name", name}, {inner, fn(value)}});
    return list;
  };
  Json j = Json::object();
  j["kind"] = "Config";
  j["apiVersion"] = "v1";
  j["preferences"] = config->preferences.is_object() ? config->preferences : Json::object();
  j["clusters"] =
      named(config->clusters, "cluster", [&](const Cluster& c) { return v.ClusterJson(c); });
  j["users"] = named(config->users, "user", [&](const AuthInfo& u) { return v.UserJson(u); });
  j["contexts"] =
      named(config->contexts, "context", [&](const Context& c) { return v.ContextJson(c); });
  j["current-context"] = config->current_context;
  if (!config->extensions.empty()) j["extensions"] = v.Extensions(config->extensions);
  return j;
}

}  // namespace kproxy::kubeconfig
