#include "cli/pod_target.h"

#include <thread>

#include "core/rest/api_client.h"
#include "core/transport/http_upgrade.h"

namespace kproxy::cli {

Result<std::chrono::milliseconds> ParseGoDuration(const std::string& text) {
  if (text == "0") return std::chrono::milliseconds(0);
  double total_ms = 0;
  size_t i = 0;
  if (text.empty()) return MakeError(ErrorCode::kUsage, "invalid duration \"\"");
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (start == i) return MakeError(ErrorCode::kUsage, "invalid duration \"" + text + "\"");
    double value = std::stod(text.substr(start, i - start));
    size_t ustart = i;
    while (i < text.size() && isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(ustart, i - ustart);
    double scale = unit == "ms"  ? 1
                   : unit == "s" ? 1000
                   : unit == "m" ? 60000
                   : unit == "h" ? 3600000
                                 : -1;
    if (scale < 0) return MakeError(ErrorCode::kUsage, "invalid duration \"" + text + "\"");
    total_ms += value * scale;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total_ms));
}

Result<PodTarget> ResolvePodTarget(ClusterAccess& access, const std::string& arg,
                                   const std::string& ns, std::chrono::milliseconds timeout) {
  auto ref = ParseResourceRef(arg);
  if (!ref.ok()) return ref.error();
  PodTarget t;
  t.namespace_ = ns;
  if (ref->kind == ResourceKind::kPod) {
    auto pod = access.GetJson(CollectionPath(ResourceKind::kPod, ns) + "/" + PathEscape(ref->name));
    if (!pod.ok()) return pod.error();
    t.pod = std::move(*pod);
    t.name = ref->name;
    return t;
  }
  auto object = access.GetJson(CollectionPath(ref->kind, ns) + "/" + PathEscape(ref->name));
  if (!object.ok()) return object.error();
  auto selector = SelectorOf(*object, ref->kind);
  if (!selector.ok()) return selector.error();
  if (ref->kind == ResourceKind::kService) t.service = *object;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto list = access.GetJson(CollectionPath(ResourceKind::kPod, ns) +
                               "?labelSelector=" + http::QueryEscape(*selector));
    if (!list.ok()) return list.error();
    std::vector<nlohmann::json> pods;
    if (list->contains("items") && (*list)["items"].is_array())
      for (auto& p : (*list)["items"]) pods.push_back(p);
    if (const nlohmann::json* best = MostActivePod(pods)) {
      t.pod = *best;
      t.name = (*best)["metadata"].value("name", "");
      return t;
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return MakeError(ErrorCode::kTimeout, "timed out waiting for the condition");
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace kproxy::cli
