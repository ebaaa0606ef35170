#include "auth/context_route.h"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "auth/credentials.h"

namespace kproxy::auth {
namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kConfig, "cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Result<std::string> DecodeBase64(const std::string& b64) {
  std::string compact;
  for (char c : b64) {
    if (c != '\n' && c != '\r' && c != ' ') compact.push_back(c);
  }
  if (compact.size() % 4 != 0) return MakeError(ErrorCode::kConfig, "invalid base64 CA data");
  std::string out(compact.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(compact.data()),
                          static_cast<int>(compact.size()));
  if (n < 0) return MakeError(ErrorCode::kConfig, "invalid base64 CA data");
  size_t pad = 0;
  for (size_t i = compact.size(); i > 0 && compact[i - 1] == '='; --i) ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// The first node named `name` in `list` across the files (client-go: first file wins).
// (std::optional: a default-constructed YAML::Node is a valid null node, not "absent".)
std::optional<YAML::Node> FindNamed(const std::vector<YAML::Node>& docs, const char* list,
                                    const std::string& name, size_t* doc_index = nullptr) {
  for (size_t i = 0; i < docs.size(); ++i) {
    const YAML::Node& doc = docs[i];
    if (doc_index != nullptr) *doc_index = i;
    YAML::Node items = doc[list];
    if (!items || !items.IsSequence()) continue;
    for (const auto& item : items) {
      if (item["name"] && item["name"].as<std::string>("") == name) return item;
    }
  }
  return std::nullopt;
}

Result<ContextRoute> Resolve(const std::string& context, const std::vector<YAML::Node>& docs,
                             const std::vector<std::string>& paths) {
  std::string name = context;
  if (name.empty()) {
    for (const auto& d : docs) {
      if (d["current-context"] && !d["current-context"].as<std::string>("").empty()) {
        name = d["current-context"].as<std::string>();
        break;
      }
    }
    if (name.empty()) return MakeError(ErrorCode::kConfig, "no current-context is set");
  }
  auto ctx = FindNamed(docs, "contexts", name);
  if (!ctx) return MakeError(ErrorCode::kNotFound, "context \"" + name + "\" not found");
  std::string user_name = (*ctx)["context"]["user"].as<std::string>("");
  std::string cluster_name = (*ctx)["context"]["cluster"].as<std::string>("");
  ContextRoute out;
  size_t cluster_doc = 0;
  auto cluster = FindNamed(docs, "clusters", cluster_name, &cluster_doc);
  if (cluster) {
    YAML::Node c = (*cluster)["cluster"];
    out.route = c["server"].as<std::string>("");
    out.insecure_skip_tls_verify = c["insecure-skip-tls-verify"].as<bool>(false);
    std::string data = c["certificate-authority-data"].as<std::string>("");
    std::string file = c["certificate-authority"].as<std::string>("");
    if (!data.empty()) {
      auto pem = DecodeBase64(data);
      if (!pem) return pem.error();
      out.ca_pem = *pem;
    } else if (!file.empty()) {
      // Relative paths resolve against the kubeconfig file that defined the cluster.
      std::filesystem::path p(file);
      if (p.is_relative()) p = std::filesystem::path(paths[cluster_doc]).parent_path() / p;
      auto pem = ReadFile(p.string());
      if (!pem) return pem.error();
      out.ca_pem = *pem;
    }
  }
  auto user = FindNamed(docs, "users", user_name);
  if (user && (*user)["user"]["exec"]) {
    YAML::Node exec = (*user)["user"]["exec"];
    ExecPluginConfig e;
    e.command = exec["command"].as<std::string>("");
    if (exec["args"] && exec["args"].IsSequence()) {
      for (const auto& a : exec["args"]) e.args.push_back(a.as<std::string>(""));
    }
    if (auto args = AsKproxyCredentialPlugin(e)) out.route = args->server;
  }
  if (out.route.empty()) {
    return MakeError(ErrorCode::kConfig, "context \"" + name + "\" has no cluster server");
  }
  return out;
}

}  // namespace

std::vector<std::string> KubeconfigFiles(const std::optional<std::string>& explicit_file,
                                         const std::optional<std::string>& kubeconfig_env,
                                         const std::string& home) {
  if (explicit_file && !explicit_file->empty()) return {*explicit_file};
  std::vector<std::string> files;
  if (kubeconfig_env && !kubeconfig_env->empty()) {
    size_t start = 0;
    const std::string& list = *kubeconfig_env;
    while (start <= list.size()) {
      size_t colon = list.find(':', start);
      std::string f = list.substr(start, colon == std::string::npos ? colon : colon - start);
      bool seen = false;
      for (const auto& x : files) seen |= x == f;
      if (!f.empty() && !seen) files.push_back(f);
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    return files;
  }
  return {home + "/.kube/config"};
}

Result<ContextRoute> RouteForContext(const std::string& context,
                                     const std::vector<std::string>& files) {
  std::vector<YAML::Node> docs;
  std::vector<std::string> paths;
  for (const auto& f : files) {
    std::error_code ec;
    if (!std::filesystem::exists(f, ec)) continue;  // missing $KUBECONFIG entries are skipped
    try {
      docs.push_back(YAML::LoadFile(f));
      paths.push_back(f);
    } catch (const YAML::Exception& e) {
      return MakeError(ErrorCode::kConfig, "cannot read kubeconfig " + f + ": " + e.what());
    }
  }
  try {
    return Resolve(context, docs, paths);
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kConfig, std::string("malformed kubeconfig: ") + e.what());
  }
}

Result<ContextRoute> RouteFromFlags(
    const ConfigOverrides& overrides,
    const std::function<std::optional<std::string>(const std::string&)>& getenv) {
  if (overrides.server && !overrides.server->empty()) {
    ContextRoute out;
    out.route = *overrides.server;
    out.insecure_skip_tls_verify = overrides.insecure_skip_tls_verify.value_or(false);
    if (overrides.certificate_authority) {
      auto pem = ReadFile(*overrides.certificate_authority);
      if (!pem) return pem.error();
      out.ca_pem = *pem;
    }
    return out;
  }
  auto files =
      KubeconfigFiles(overrides.kubeconfig, getenv("KUBECONFIG"), getenv("HOME").value_or(""));
  return RouteForContext(overrides.context.value_or(""), files);
}

}  // namespace kproxy::auth
