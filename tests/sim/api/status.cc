#include "tests/sim/api/status.h"

#include <nlohmann/json.hpp>

namespace kproxy::sim {

HttpResponse StatusResponse(int code, const std::string& reason, const std::string& message,
                            const std::string& details_name, const std::string& details_group,
                            const std::string& details_kind) {
  nlohmann::ordered_json j;
  j["kind"] = "Status";
  j["apiVersion"] = "v1";
  j["metadata"] = nlohmann::json::object();
  j["status"] = "Failure";
  j["message"] = message;
  j["reason"] = reason;
  if (!details_name.empty() || !details_kind.empty()) {
    nlohmann::ordered_json d;
    if (!details_name.empty()) d["name"] = details_name;
    if (!details_group.empty()) d["group"] = details_group;
    if (!details_kind.empty()) d["kind"] = details_kind;
    j["details"] = d;
  }
  j["code"] = code;
  HttpResponse r;
  r.status = code;
  r.body = j.dump() + "\n";
  r.Header("Content-Type", "application/json");
  return r;
}

HttpResponse NotFound(const std::string& group, const std::string& resource,
                      const std::string& name) {
  std::string qualified = group.empty() ? resource : resource + "." + group;
  return StatusResponse(404, "NotFound", qualified + " \"" + name + "\" not found", name, group,
                        resource);
}

HttpResponse Unauthorized() { return StatusResponse(401, "Unauthorized", "Unauthorized"); }

}  // namespace kproxy::sim
