// kubectl's TYPE/NAME argument forms (pod/x, deploy/x, svc/x, ...) and the pod choice rules:
// the most active pod of a controller, the default container, completed-pod refusal, and the
// service-port → container-port mapping of port-forward. Pure functions over API JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/base/result.h"

namespace kproxy {

enum class ResourceKind {
  kPod,
  kDeployment,
  kReplicaSet,
  kStatefulSet,
  kDaemonSet,
  kJob,
  kService
};

struct ResourceRef {
  ResourceKind kind = ResourceKind::kPod;
  std::string name;
};

// "web" and "pod/web" → pod; "deploy/api", "deployments.apps/api", "svc/db", ...
// An unknown type → kUsage error with kubectl's wording.
Result<ResourceRef> ParseResourceRef(const std::string& arg);

// The REST collection path of a kind in a namespace: "/apis/apps/v1/namespaces/ns/deployments".
std::string CollectionPath(ResourceKind kind, const std::string& ns);
const char* ResourceKindName(ResourceKind kind);  // "deployment", "service", ...

// The label selector of a controller or service object, as a query string value
// ("app=web,tier in (a,b)"). Errors when the object has no usable selector.
Result<std::string> SelectorOf(const nlohmann::json& object, ResourceKind kind);

// The pod kubectl would pick from `pods` (the items of a list): kubectl sorts with
// sort.Reverse(podutils.ActivePods) and takes the first. nullptr when empty.
const nlohmann::json* MostActivePod(const std::vector<nlohmann::json>& pods);

struct ContainerChoice {
  std::string name;
  std::string notice;  // "Defaulted container ..." to print on stderr, or ""
};

// -c NAME, else the kubectl.kubernetes.io/default-container annotation, else the first
// container (with kubectl's notice when the pod has more than one, unless `quiet`).
Result<ContainerChoice> ChooseContainer(const nlohmann::json& pod, const std::string& requested,
                                        bool quiet);

// Refuses pods in a terminal phase: "cannot exec into a container in a completed pod; current
// phase is Succeeded" (verb "exec") / "cannot attach a container in a completed pod; ..."
Status CheckPodNotCompleted(const nlohmann::json& pod, const std::string& verb);

// "Running", "Pending", ... ("" when absent).
std::string PodPhase(const nlohmann::json& pod);

// port-forward: the container port for a remote port given as a number or a port name,
// looked up in the pod's containers.
Result<int> ResolvePodPort(const nlohmann::json& pod, const std::string& port);
// port-forward svc/x: the service port (number or name) → the target container port on `pod`
// (targetPort number, named targetPort looked up in the pod, or the port itself when unset).
Result<int> ResolveServicePort(const nlohmann::json& service, const nlohmann::json& pod,
                               const std::string& port);

}  // namespace kproxy
