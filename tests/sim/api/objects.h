// Fixture objects rendered as the API server renders them (v1 Pod, apps/v1 workloads,
// batch/v1 Job, v1 Service, v1 Namespace), and kubectl's server-side printing Tables.
#pragma once

#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/sim/fixture.h"

namespace kproxy::sim {

using Json = nlohmann::ordered_json;

// The resource kinds the simulator serves, keyed by URL resource name.
struct ResourceType {
  const char* resource;  // "pods"
  const char* group;     // "" or "apps"
  const char* version;   // "v1"
  const char* kind;      // "Pod"
  const char* singular;  // "pod"
  bool namespaced;
  std::vector<const char*> short_names;
};
const std::vector<ResourceType>& ResourceTypes();
const ResourceType* FindResourceType(const std::string& group, const std::string& resource);

// RFC 3339 UTC timestamp of `now - age_seconds`.
std::string Timestamp(time_t now, int age_seconds);
// apimachinery's duration.HumanDuration ("5m", "3h4m", "12d").
std::string HumanDuration(long seconds);

Json PodJson(const Pod& pod, time_t now);
Json WorkloadJson(const Fixture& fixture, const Workload& w, time_t now);
Json ServiceJson(const Service& svc, time_t now);
Json NamespaceJson(const std::string& name, time_t now);

// {"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":..},"items":[...]}
Json ListJson(const ResourceType& type, std::vector<Json> items);

// meta.k8s.io/v1 Table with the apiserver printer's columns for `type`. `objects` are full
// objects as rendered above; `include_object` is "None", "Metadata" (default) or "Object".
Json TableJson(const Fixture& fixture, const ResourceType& type, const std::vector<Json>& objects,
               const std::string& include_object, time_t now);

// True when Accept asks for a meta.k8s.io Table (kubectl get's server-side printing).
bool WantsTable(const std::string& accept);

}  // namespace kproxy::sim
