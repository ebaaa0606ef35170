// `get pods` from a connected ApiClient to printed output, as kubectl prints it. The CLI maps
// flags and kubeconfig to GetPodsRequest (cli/get_command.cc); everything after is here.
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>

#include "core/base/result.h"
#include "core/rest/api_client.h"

namespace kproxy {

struct GetPodsRequest {
  std::string name;  // "" = list
  std::string namespace_ = "default";
  bool all_namespaces = false;  // -A (not with a name, as kubectl)
  std::string label_selector;   // -l
  std::string output;           // "" | wide | json | yaml | name
};

// Validates the request: an unknown -o is kUsage; a name with -l is kUsage (kubectl:
// "name cannot be provided when a selector is specified"), and so is a name with -A.
Status ValidateGetPods(const GetPodsRequest& request);

// Fetches and prints. Table/name/json/yaml output goes to `out`; "No resources found in NS
// namespace." (or "No resources found" with -A) goes to `err` for an empty table. Returns the
// API or transport error unchanged (its message is the complete line to print).
Status GetPods(ApiClient& api, const GetPodsRequest& request, std::ostream& out, std::ostream& err,
               std::chrono::system_clock::time_point now);

}  // namespace kproxy
