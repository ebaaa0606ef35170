// Resolves kubectl's POD | TYPE/NAME argument to one pod object through the API, as kubectl's
// AttachablePodForObject does: a pod by name, or the most active pod selected by a
// controller's or service's selector, waiting up to `timeout` for one to exist.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/cluster_access.h"
#include "core/resolve/resource_ref.h"

namespace kproxy::cli {

struct PodTarget {
  nlohmann::json pod;
  nlohmann::json service;  // set for svc/NAME (port-forward maps its ports)
  std::string name;
  std::string namespace_;
};

Result<PodTarget> ResolvePodTarget(ClusterAccess& access, const std::string& arg,
                                   const std::string& ns, std::chrono::milliseconds timeout);

// "1m", "30s", "2m30s", "500ms", "0" → duration; kUsage otherwise (kubectl's flag format).
Result<std::chrono::milliseconds> ParseGoDuration(const std::string& text);

}  // namespace kproxy::cli
