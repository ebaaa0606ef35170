#include "cli/completion_source.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <utility>

#include "cli/cluster_access.h"
#include "core/kubeconfig/kubeconfig_files.h"
#include "core/kubeconfig/loader.h"
#include "core/rest/api_client.h"

namespace kproxy::cli {
namespace {

// metadata.name of every item of a List object; anything malformed is skipped.
std::vector<std::string> Names(const nlohmann::json& list) {
  std::vector<std::string> out;
  if (!list.is_object() || !list.contains("items") || !list["items"].is_array()) return out;
  for (const auto& item : list["items"]) {
    if (!item.is_object() || !item.contains("metadata") || !item["metadata"].is_object()) continue;
    const auto& meta = item["metadata"];
    if (meta.contains("name") && meta["name"].is_string())
      out.push_back(meta["name"].get<std::string>());
  }
  return out;
}

class LiveCompletionSource : public CompletionSource {
 public:
  LiveCompletionSource(ConfigOverrides overrides, std::chrono::milliseconds timeout)
      : overrides_(std::move(overrides)), timeout_(timeout) {}

  std::vector<std::string> Contexts() override { return Keys(&kubeconfig::Config::contexts); }
  std::vector<std::string> Clusters() override { return Keys(&kubeconfig::Config::clusters); }
  std::vector<std::string> Users() override { return Keys(&kubeconfig::Config::users); }

  std::vector<std::string> Namespaces(const std::string& context) override {
    auto access = Connect(context, "");
    if (!access) return {};
    ApiClient api(access->http());
    auto got = api.GetJson("/api/v1/namespaces", {"list", "namespaces", ""});
    return got.ok() ? Names(*got) : std::vector<std::string>{};
  }

  std::vector<std::string> Pods(const std::string& context, const std::string& ns) override {
    auto access = Connect(context, ns);
    if (!access) return {};
    ApiClient api(access->http());
    auto got = api.ListPods(access->config().namespace_, "");
    return got.ok() ? Names(*got) : std::vector<std::string>{};
  }

  std::vector<std::string> Containers(const std::string& context, const std::string& ns,
                                      const std::string& pod) override {
    std::vector<std::string> out;
    auto access = Connect(context, ns);
    if (!access) return out;
    ApiClient api(access->http());
    auto got = api.GetPod(access->config().namespace_, pod);
    if (!got.ok()) return out;
    const nlohmann::json& p = *got;
    if (!p.contains("spec") || !p["spec"].is_object()) return out;
    // kubectl offers init containers too (`logs -c` and `exec -c` accept them).
    for (const char* key : {"containers", "initContainers"}) {
      if (!p["spec"].contains(key) || !p["spec"][key].is_array()) continue;
      for (const auto& c : p["spec"][key])
        if (c.is_object() && c.contains("name") && c["name"].is_string())
          out.push_back(c["name"].get<std::string>());
    }
    return out;
  }

 private:
  template <typename Map>
  std::vector<std::string> Keys(Map kubeconfig::Config::*field) {
    if (!loaded_) {
      loaded_ = true;
      auto got =
          kubeconfig::LoadKubeconfig(overrides_.kubeconfig, KubeconfigEnvironment::Process());
      if (got.ok()) merged_ = std::move(got->merged);
    }
    std::vector<std::string> out;
    if (merged_)
      for (const auto& entry : (*merged_).*field) out.push_back(entry.first);
    return out;
  }

  // The same cluster access the completed command would get (kubeconfig, flags, credential
  // plugins, access-proxy session), but bounded by the completion timeout and never
  // interactive: plugins are told stdin is in use, so a TAB never prompts.
  std::unique_ptr<ClusterAccess> Connect(const std::string& context, const std::string& ns) {
    GlobalOptions globals;
    globals.overrides = overrides_;
    if (!context.empty()) globals.overrides.context = context;
    if (!ns.empty()) globals.overrides.namespace_ = ns;
    // The line's own --request-timeout is meant for the command, not for a TAB.
    globals.overrides.request_timeout =
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout_).count()) +
        "ms";
    CommandIO io{empty_in_, discard_, discard_};
    auto access = ClusterAccess::Open(globals, io, /*stdin_in_use=*/true);
    if (!access.ok()) return nullptr;
    return std::move(*access);
  }

  ConfigOverrides overrides_;
  std::chrono::milliseconds timeout_;
  bool loaded_ = false;
  std::optional<kubeconfig::Config> merged_;
  std::istringstream empty_in_;
  std::ostringstream discard_;
};

}  // namespace

std::unique_ptr<CompletionSource> MakeLiveCompletionSource(const ConfigOverrides& overrides,
                                                           std::chrono::milliseconds timeout) {
  return std::make_unique<LiveCompletionSource>(overrides, timeout);
}

}  // namespace kproxy::cli
