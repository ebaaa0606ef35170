#include "core/kubeconfig/kubeconfig_parse.h"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <optional>

#include "core/kubeconfig/yaml_value.h"

namespace kproxy::kubeconfig {
namespace {

// Walks the YAML tree once. Every accessor returns false after recording the first error, so
// callers just `if (!Get...) return false;`.
class Parser {
 public:
  Parser(std::string label, std::string origin)
      : label_(std::move(label)), origin_(std::move(origin)) {}

  Result<Config> Run(const YAML::Node& root) {
    Config cfg;
    if (!root.IsDefined() || root.IsNull()) return cfg;  // empty file = empty config
    if (!root.IsMap()) {
      Fail(root, "", "the document is not a kubeconfig (expected a mapping at the top level)");
      return *error_;
    }
    if (!ParseTop(root, cfg)) return *error_;
    return cfg;
  }

 private:
  bool Fail(const YAML::Node& node, const std::string& path, const std::string& what) {
    if (error_) return false;
    std::string msg = "error loading config file \"" + label_ + "\": ";
    const YAML::Mark mark = node.Mark();
    if (!mark.is_null()) msg += "line " + std::to_string(mark.line + 1) + ": ";
    if (!path.empty()) msg += path + ": ";
    error_ = MakeError(ErrorCode::kConfig, msg + what);
    return false;
  }

  // Looks up `key` in `map`; returns nullopt when absent or null (Go leaves the field unset).
  static std::optional<YAML::Node> Child(const YAML::Node& map, const char* key) {
    YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return std::nullopt;
    if (n.IsScalar() && ResolveScalar(n) == ScalarType::kNull) return std::nullopt;
    return n;
  }

  bool String(const YAML::Node& map, const char* key, const std::string& path, std::string& out) {
    auto n = Child(map, key);
    if (!n) return true;
    return StringValue(*n, path + "." + key, out);
  }

  bool StringValue(const YAML::Node& n, const std::string& path, std::string& out) {
    if (!n.IsScalar()) return Fail(n, path, "expected a string, got a " + KindName(n));
    ScalarType t = ResolveScalar(n);
    if (t != ScalarType::kString) {
      return Fail(n, path,
                  std::string("expected a string, got ") + ScalarTypeName(t) + " (quote it: \"" +
                      n.Scalar() + "\")");
    }
    out = n.Scalar();
    return true;
  }

  bool Bool(const YAML::Node& map, const char* key, const std::string& path, bool& out) {
    auto n = Child(map, key);
    if (!n) return true;
    if (!n->IsScalar() || ResolveScalar(*n) != ScalarType::kBool)
      return Fail(*n, path + "." + key, "expected true or false");
    out = ScalarBoolValue(n->Scalar());
    return true;
  }

  bool Data(const YAML::Node& map, const char* key, const std::string& path, std::string& out) {
    std::string text;
    if (!String(map, key, path, text)) return false;
    if (text.empty()) return true;
    auto bytes = DecodeBase64Field(text);
    if (!bytes.ok()) return Fail(map[key], path + "." + key, bytes.error().message);
    out = std::move(*bytes);
    return true;
  }

  bool StringList(const YAML::Node& n, const std::string& path, std::vector<std::string>& out) {
    if (!n.IsSequence()) return Fail(n, path, "expected a list of strings, got a " + KindName(n));
    for (size_t i = 0; i < n.size(); ++i) {
      std::string s;
      if (!StringValue(n[i], path + "[" + std::to_string(i) + "]", s)) return false;
      out.push_back(std::move(s));
    }
    return true;
  }

  static std::string KindName(const YAML::Node& n) {
    if (n.IsMap()) return "mapping";
    if (n.IsSequence()) return "list";
    return "scalar";
  }

  bool Extensions(const YAML::Node& map, const std::string& path,
                  std::vector<NamedExtension>& out) {
    auto n = Child(map, "extensions");
    if (!n) return true;
    const std::string p = path + ".extensions";
    if (!n->IsSequence()) return Fail(*n, p, "expected a list, got a " + KindName(*n));
    for (size_t i = 0; i < n->size(); ++i) {
      const YAML::Node item = (*n)[i];
      const std::string ip = p + "[" + std::to_string(i) + "]";
      if (!item.IsMap()) return Fail(item, ip, "expected a mapping with name and extension");
      NamedExtension ext;
      if (!String(item, "name", ip, ext.name)) return false;
      if (auto e = Child(item, "extension")) {
        auto json = YamlToJson(*e);
        if (!json.ok()) return Fail(*e, ip + ".extension", json.error().message);
        ext.extension = std::move(*json);
      }
      out.push_back(std::move(ext));
    }
    return true;
  }

  // Iterates a top-level named list (clusters/users/contexts), calling body(item, inner, path,
  // name) for each entry. Duplicate names within one file are an error, as in client-go.
  template <typename T, typename Fn>
  bool NamedList(const YAML::Node& root, const char* key, const char* inner,
                 std::map<std::string, T>& out, Fn body) {
    auto n = Child(root, key);
    if (!n) return true;
    if (!n->IsSequence()) return Fail(*n, key, "expected a list, got a " + KindName(*n));
    for (size_t i = 0; i < n->size(); ++i) {
      const YAML::Node item = (*n)[i];
      const std::string path = std::string(key) + "[" + std::to_string(i) + "]";
      if (!item.IsMap())
        return Fail(item, path, "expected a mapping with name and " + std::string(inner));
      std::string name;
      if (!String(item, "name", path, name)) return false;
      if (out.count(name)) return Fail(item, path, "duplicate name \"" + name + "\" in list");
      T value;
      value.origin = origin_;
      if (auto body_node = Child(item, inner)) {
        if (!body_node->IsMap())
          return Fail(*body_node, path + "." + inner,
                      "expected a mapping, got a " + KindName(*body_node));
        if (!body(*body_node, path + "." + inner, value)) return false;
      }
      out.emplace(name, std::move(value));
    }
    return true;
  }

  bool ParseCluster(const YAML::Node& n, const std::string& p, Cluster& c) {
    return String(n, "server", p, c.server) && String(n, "tls-server-name", p, c.tls_server_name) &&
           Bool(n, "insecure-skip-tls-verify", p, c.insecure_skip_tls_verify) &&
           String(n, "certificate-authority", p, c.certificate_authority) &&
           Data(n, "certificate-authority-data", p, c.certificate_authority_data) &&
           String(n, "proxy-url", p, c.proxy_url) &&
           Bool(n, "disable-compression", p, c.disable_compression) &&
           Extensions(n, p, c.extensions);
  }

  bool ParseExec(const YAML::Node& n, const std::string& p, Exec& e) {
    if (!n.IsMap()) return Fail(n, p, "expected a mapping, got a " + KindName(n));
    if (!String(n, "command", p, e.command) || !String(n, "apiVersion", p, e.api_version) ||
        !String(n, "installHint", p, e.install_hint) ||
        !Bool(n, "provideClusterInfo", p, e.provide_cluster_info) ||
        !String(n, "interactiveMode", p, e.interactive_mode))
      return false;
    if (auto args = Child(n, "args")) {
      e.args.emplace();
      if (!StringList(*args, p + ".args", *e.args)) return false;
    }
    if (auto env = Child(n, "env")) {
      if (!env->IsSequence()) return Fail(*env, p + ".env", "expected a list of {name, value}");
      e.env.emplace();
      for (size_t i = 0; i < env->size(); ++i) {
        const YAML::Node item = (*env)[i];
        const std::string ip = p + ".env[" + std::to_string(i) + "]";
        if (!item.IsMap()) return Fail(item, ip, "expected a mapping with name and value");
        ExecEnv var;
        if (!String(item, "name", ip, var.name) || !String(item, "value", ip, var.value))
          return false;
        e.env->push_back(std::move(var));
      }
    }
    return true;
  }

  bool ParseUser(const YAML::Node& n, const std::string& p, AuthInfo& u) {
    if (!String(n, "client-certificate", p, u.client_certificate) ||
        !Data(n, "client-certificate-data", p, u.client_certificate_data) ||
        !String(n, "client-key", p, u.client_key) ||
        !Data(n, "client-key-data", p, u.client_key_data) || !String(n, "token", p, u.token) ||
        !String(n, "tokenFile", p, u.token_file) || !String(n, "as", p, u.as) ||
        !String(n, "as-uid", p, u.as_uid) || !String(n, "username", p, u.username) ||
        !String(n, "password", p, u.password) || !Extensions(n, p, u.extensions))
      return false;
    if (auto groups = Child(n, "as-groups")) {
      if (!StringList(*groups, p + ".as-groups", u.as_groups)) return false;
    }
    if (auto extra = Child(n, "as-user-extra")) {
      if (!extra->IsMap()) return Fail(*extra, p + ".as-user-extra", "expected a mapping");
      for (const auto& kv : *extra) {
        std::string key;
        if (!StringValue(kv.first, p + ".as-user-extra", key)) return false;
        std::vector<std::string> values;
        if (!kv.second.IsNull() && !StringList(kv.second, p + ".as-user-extra." + key, values))
          return false;
        u.as_user_extra[key] = std::move(values);
      }
    }
    if (auto ap = Child(n, "auth-provider")) {
      const std::string ap_path = p + ".auth-provider";
      if (!ap->IsMap()) return Fail(*ap, ap_path, "expected a mapping");
      AuthProvider provider;
      if (!String(*ap, "name", ap_path, provider.name)) return false;
      if (auto cfg = Child(*ap, "config")) {
        if (!cfg->IsMap()) return Fail(*cfg, ap_path + ".config", "expected a mapping");
        for (const auto& kv : *cfg) {
          std::string key, value;
          if (!StringValue(kv.first, ap_path + ".config", key)) return false;
          if (!kv.second.IsNull() && !StringValue(kv.second, ap_path + ".config." + key, value))
            return false;
          provider.config[key] = value;
        }
      }
      u.auth_provider = std::move(provider);
    }
    if (auto exec = Child(n, "exec")) {
      u.exec.emplace();
      if (!ParseExec(*exec, p + ".exec", *u.exec)) return false;
    }
    return true;
  }

  bool ParseContext(const YAML::Node& n, const std::string& p, Context& c) {
    return String(n, "cluster", p, c.cluster) && String(n, "user", p, c.user) &&
           String(n, "namespace", p, c.namespace_) && Extensions(n, p, c.extensions);
  }

  bool ParseTop(const YAML::Node& root, Config& cfg) {
    std::string ignored;
    if (!String(root, "apiVersion", "", ignored) || !String(root, "kind", "", ignored))
      return false;
    if (!String(root, "current-context", "", cfg.current_context)) return false;
    if (auto prefs = Child(root, "preferences")) {
      if (!prefs->IsMap()) return Fail(*prefs, "preferences", "expected a mapping");
      auto json = YamlToJson(*prefs);
      if (!json.ok()) return Fail(*prefs, "preferences", json.error().message);
      cfg.preferences = std::move(*json);
    }
    if (!Extensions(root, "", cfg.extensions)) return false;
    return NamedList(root, "clusters", "cluster", cfg.clusters,
                     [this](const YAML::Node& n, const std::string& p, Cluster& c) {
                       return ParseCluster(n, p, c);
                     }) &&
           NamedList(root, "users", "user", cfg.users,
                     [this](const YAML::Node& n, const std::string& p, AuthInfo& u) {
                       return ParseUser(n, p, u);
                     }) &&
           NamedList(root, "contexts", "context", cfg.contexts,
                     [this](const YAML::Node& n, const std::string& p, Context& c) {
                       return ParseContext(n, p, c);
                     });
  }

  std::string label_;
  std::string origin_;
  std::optional<Error> error_;
};

}  // namespace

Result<std::string> DecodeBase64Field(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (char c : text)
    if (c != '\r' && c != '\n') clean += c;
  auto is_alpha = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  };
  size_t pad = 0;
  for (size_t i = 0; i < clean.size(); ++i) {
    const char c = clean[i];
    // '=' may only appear as the last one or two characters of the final quantum.
    if (c == '=') {
      if (i + 2 < clean.size() || clean.size() % 4 != 0 || i % 4 < 2 ||
          (i + 1 < clean.size() && clean[i + 1] != '='))
        return MakeError(ErrorCode::kConfig,
                         "illegal base64 data at input byte " + std::to_string(i));
      ++pad;
    } else if (!is_alpha(c) || pad > 0) {
      return MakeError(ErrorCode::kConfig,
                       "illegal base64 data at input byte " + std::to_string(i));
    }
  }
  if (clean.size() % 4 != 0)
    return MakeError(ErrorCode::kConfig, "illegal base64 data at input byte " +
                                             std::to_string(clean.size() - clean.size() % 4));
  std::string out(clean.size() / 4 * 3, '\0');
  if (clean.empty()) return out;
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) return MakeError(ErrorCode::kConfig, "illegal base64 data at input byte 0");
  out.resize(static_cast<size_t>(n) - pad);  // EVP_DecodeBlock counts padding as zero bytes
  return out;
}

Result<Config> ParseKubeconfig(std::string_view text, const std::string& label,
                               const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    std::string msg = "error loading config file \"" + label + "\": yaml: ";
    if (!e.mark.is_null()) msg += "line " + std::to_string(e.mark.line + 1) + ": ";
    return MakeError(ErrorCode::kConfig, msg + e.msg);
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kConfig,
                     "error loading config file \"" + label + "\": yaml: " + e.what());
  }
  try {
    Parser parser(label, origin);
    return parser.Run(root);
  } catch (const std::exception& e) {  // yaml-cpp may throw on odd trees (e.g. bad conversion)
    return MakeError(ErrorCode::kConfig,
                     "error loading config file \"" + label + "\": " + e.what());
  }
}

}  // namespace kproxy::kubeconfig
