#include "core/rest/get_pods.h"

#include <nlohmann/json.hpp>
#include <ostream>

#include "core/rest/object_format.h"
#include "core/rest/pod_table.h"
#include "core/rest/yaml_format.h"

namespace kproxy {

Status ValidateGetPods(const GetPodsRequest& request) {
  const std::string& o = request.output;
  if (!(o.empty() || o == "wide" || o == "json" || o == "yaml" || o == "name")) {
    return MakeError(ErrorCode::kUsage,
                     "error: unable to match a printer suitable for the output format \"" + o +
                         "\", allowed formats are: json,name,wide,yaml");
  }
  if (!request.name.empty() && request.all_namespaces) {
    return MakeError(ErrorCode::kUsage,
                     "error: a resource cannot be retrieved by name across all namespaces");
  }
  if (!request.name.empty() && !request.label_selector.empty()) {
    return MakeError(ErrorCode::kUsage,
                     "error: name cannot be provided when a selector is specified");
  }
  return Status::Ok();
}

Status GetPods(ApiClient& api, const GetPodsRequest& request, std::ostream& out, std::ostream& err,
               std::chrono::system_clock::time_point now) {
  if (Status s = ValidateGetPods(request); !s.ok()) return s;
  const std::string& o = request.output;
  nlohmann::json pods = nlohmann::json::array();
  if (!request.name.empty()) {
    auto pod = api.GetPod(request.namespace_, request.name);
    if (!pod.ok()) return pod.error();
    if (o == "json" || o == "yaml") {
      // One named object prints as itself, not as a List.
      out << (o == "json" ? KubectlJson(*pod) : KubectlYaml(*pod));
      return Status::Ok();
    }
    pods.push_back(std::move(*pod));
  } else {
    auto list =
        api.ListPods(request.all_namespaces ? "" : request.namespace_, request.label_selector);
    if (!list.ok()) return list.error();
    pods = std::move((*list)["items"]);
  }

  if (o == "json" || o == "yaml") {
    nlohmann::json list = KubectlList(pods, "v1", "Pod");
    out << (o == "json" ? KubectlJson(list) : KubectlYaml(list));
  } else if (o == "name") {
    for (const auto& pod : pods)
      out << "pod/" << pod["metadata"]["name"].get<std::string>() << "\n";
  } else if (pods.empty()) {
    if (request.all_namespaces) {
      err << "No resources found\n";
    } else {
      err << "No resources found in " << request.namespace_ << " namespace.\n";
    }
  } else {
    PodTableOptions options;
    options.wide = o == "wide";
    options.with_namespace = request.all_namespaces && request.name.empty();
    out << PodTable(pods, options, now);
  }
  return Status::Ok();
}

}  // namespace kproxy
