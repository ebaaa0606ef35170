#include "core/resolve/resource_ref.h"

#include <algorithm>
#include <charconv>
#include <map>

namespace kproxy {
namespace {

using json = nlohmann::json;

const json& Path(const json& j, std::initializer_list<const char*> keys) {
  static const json kNull;
  const json* cur = &j;
  for (const char* k : keys) {
    if (!cur->is_object()) return kNull;
    auto it = cur->find(k);
    if (it == cur->end()) return kNull;
    cur = &*it;
  }
  return *cur;
}

std::string Str(const json& j) { return j.is_string() ? j.get<std::string>() : std::string(); }

std::string Name(const json& obj) { return Str(Path(obj, {"metadata", "name"})); }

bool IsReady(const json& pod) {
  const json& conds = Path(pod, {"status", "conditions"});
  if (!conds.is_array()) return false;
  for (const auto& c : conds)
    if (Str(Path(c, {"type"})) == "Ready") return Str(Path(c, {"status"})) == "True";
  return false;
}

// RFC 3339 timestamps compare correctly as strings when in the API's UTC "Z" form;
// "" stands for the zero time.
std::string ReadyTime(const json& pod) {
  const json& conds = Path(pod, {"status", "conditions"});
  if (!conds.is_array()) return "";
  for (const auto& c : conds)
    if (Str(Path(c, {"type"})) == "Ready" && Str(Path(c, {"status"})) == "True")
      return Str(Path(c, {"lastTransitionTime"}));
  return "";
}

int MaxRestarts(const json& pod) {
  int max = 0;
  const json& st = Path(pod, {"status", "containerStatuses"});
  if (!st.is_array()) return 0;
  for (const auto& c : st) {
    const json& r = Path(c, {"restartCount"});
    if (r.is_number_integer()) max = std::max(max, r.get<int>());
  }
  return max;
}

// t1 after t2, a zero time counting as after any non-zero time (podutils.afterOrZero).
bool AfterOrZero(const std::string& t1, const std::string& t2) {
  if (t1.empty() || t2.empty()) return t1.empty();
  return t1 > t2;
}

// podutils.ActivePods.Less.
bool ActiveLess(const json& a, const json& b) {
  std::string na = Str(Path(a, {"spec", "nodeName"})), nb = Str(Path(b, {"spec", "nodeName"}));
  if (na != nb && (na.empty() || nb.empty())) return na.empty();
  auto rank = [](const json& p) {
    std::string ph = PodPhase(p);
    return ph == "Pending" ? 0 : ph == "Unknown" ? 1 : ph == "Running" ? 2 : 0;
  };
  if (rank(a) != rank(b)) return rank(a) < rank(b);
  if (IsReady(a) != IsReady(b)) return !IsReady(a);
  if (IsReady(a) && IsReady(b) && ReadyTime(a) != ReadyTime(b))
    return AfterOrZero(ReadyTime(a), ReadyTime(b));
  if (MaxRestarts(a) != MaxRestarts(b)) return MaxRestarts(a) > MaxRestarts(b);
  std::string ca = Str(Path(a, {"metadata", "creationTimestamp"}));
  std::string cb = Str(Path(b, {"metadata", "creationTimestamp"}));
  if (ca != cb) return AfterOrZero(ca, cb);
  return false;
}

bool ParseInt(const std::string& s, int& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::vector<std::string> ContainerNames(const json& pod) {
  std::vector<std::string> names;
  auto add = [&](const char* field, const char* suffix) {
    const json& cs = Path(pod, {"spec", field});
    if (!cs.is_array()) return;
    for (const auto& c : cs) names.push_back(Str(Path(c, {"name"})) + suffix);
  };
  add("containers", "");
  add("ephemeralContainers", " (ephem)");
  add("initContainers", " (init)");
  return names;
}

bool HasContainer(const json& pod, const std::string& name) {
  for (const char* field : {"containers", "initContainers", "ephemeralContainers"}) {
    const json& cs = Path(pod, {"spec", field});
    if (!cs.is_array()) continue;
    for (const auto& c : cs)
      if (Str(Path(c, {"name"})) == name) return true;
  }
  return false;
}

}  // namespace

Result<ResourceRef> ParseResourceRef(const std::string& arg) {
  static const std::map<std::string, ResourceKind> kTypes = {
      {"pod", ResourceKind::kPod},
      {"pods", ResourceKind::kPod},
      {"po", ResourceKind::kPod},
      {"deployment", ResourceKind::kDeployment},
      {"deployments", ResourceKind::kDeployment},
      {"deploy", ResourceKind::kDeployment},
      {"deployment.apps", ResourceKind::kDeployment},
      {"deployments.apps", ResourceKind::kDeployment},
      {"replicaset", ResourceKind::kReplicaSet},
      {"replicasets", ResourceKind::kReplicaSet},
      {"rs", ResourceKind::kReplicaSet},
      {"replicasets.apps", ResourceKind::kReplicaSet},
      {"statefulset", ResourceKind::kStatefulSet},
      {"statefulsets", ResourceKind::kStatefulSet},
      {"sts", ResourceKind::kStatefulSet},
      {"statefulsets.apps", ResourceKind::kStatefulSet},
      {"daemonset", ResourceKind::kDaemonSet},
      {"daemonsets", ResourceKind::kDaemonSet},
      {"ds", ResourceKind::kDaemonSet},
      {"daemonsets.apps", ResourceKind::kDaemonSet},
      {"job", ResourceKind::kJob},
      {"jobs", ResourceKind::kJob},
      {"jobs.batch", ResourceKind::kJob},
      {"service", ResourceKind::kService},
      {"services", ResourceKind::kService},
      {"svc", ResourceKind::kService},
  };
  auto slash = arg.find('/');
  if (slash == std::string::npos) {
    if (arg.empty()) return MakeError(ErrorCode::kUsage, "a pod name is required");
    return ResourceRef{ResourceKind::kPod, arg};
  }
  std::string type = arg.substr(0, slash), name = arg.substr(slash + 1);
  std::transform(type.begin(), type.end(), type.begin(), ::tolower);
  auto it = kTypes.find(type);
  if (it == kTypes.end())
    return MakeError(ErrorCode::kUsage,
                     "the server doesn't have a resource type \"" + arg.substr(0, slash) + "\"");
  if (name.empty() || name.find('/') != std::string::npos)
    return MakeError(ErrorCode::kUsage,
                     "arguments in resource/name form must have a single "
                     "resource and name");
  return ResourceRef{it->second, name};
}

const char* ResourceKindName(ResourceKind kind) {
  switch (kind) {
    case ResourceKind::kPod:
      return "pod";
    case ResourceKind::kDeployment:
      return "deployment";
    case ResourceKind::kReplicaSet:
      return "replicaset";
    case ResourceKind::kStatefulSet:
      return "statefulset";
    case ResourceKind::kDaemonSet:
      return "daemonset";
    case ResourceKind::kJob:
      return "job";
    case ResourceKind::kService:
      return "service";
  }
  return "pod";
}

std::string CollectionPath(ResourceKind kind, const std::string& ns) {
  switch (kind) {
    case ResourceKind::kPod:
      return "/api/v1/namespaces/" + ns + "/pods";
    case ResourceKind::kService:
      return "/api/v1/namespaces/" + ns + "/services";
    case ResourceKind::kDeployment:
      return "/apis/apps/v1/namespaces/" + ns + "/deployments";
    case ResourceKind::kReplicaSet:
      return "/apis/apps/v1/namespaces/" + ns + "/replicasets";
    case ResourceKind::kStatefulSet:
      return "/apis/apps/v1/namespaces/" + ns + "/statefulsets";
    case ResourceKind::kDaemonSet:
      return "/apis/apps/v1/namespaces/" + ns + "/daemonsets";
    case ResourceKind::kJob:
      return "/apis/batch/v1/namespaces/" + ns + "/jobs";
  }
  return "";
}

Result<std::string> SelectorOf(const json& obj, ResourceKind kind) {
  std::vector<std::string> parts;
  if (kind == ResourceKind::kService) {
    const json& sel = Path(obj, {"spec", "selector"});
    if (!sel.is_object() || sel.empty())
      return MakeError(ErrorCode::kConfig, "invalid service '" + Name(obj) +
                                               "': Service is defined without a selector");
    for (auto it = sel.begin(); it != sel.end(); ++it) parts.push_back(it.key() + "=" + Str(*it));
  } else {
    const json& sel = Path(obj, {"spec", "selector"});
    const json& labels = Path(sel, {"matchLabels"});
    if (labels.is_object())
      for (auto it = labels.begin(); it != labels.end(); ++it)
        parts.push_back(it.key() + "=" + Str(*it));
    const json& exprs = Path(sel, {"matchExpressions"});
    if (exprs.is_array()) {
      for (const auto& e : exprs) {
        std::string key = Str(Path(e, {"key"})), op = Str(Path(e, {"operator"}));
        std::vector<std::string> values;
        const json& vs = Path(e, {"values"});
        if (vs.is_array())
          for (const auto& v : vs) values.push_back(Str(v));
        std::string joined;
        for (size_t i = 0; i < values.size(); ++i) joined += (i ? "," : "") + values[i];
        if (op == "In")
          parts.push_back(key + " in (" + joined + ")");
        else if (op == "NotIn")
          parts.push_back(key + " notin (" + joined + ")");
        else if (op == "Exists")
          parts.push_back(key);
        else if (op == "DoesNotExist")
          parts.push_back("!" + key);
        else
          return MakeError(ErrorCode::kConfig, "unsupported selector operator \"" + op + "\"");
      }
    }
    if (parts.empty())
      return MakeError(ErrorCode::kConfig, std::string(ResourceKindName(kind)) + " \"" + Name(obj) +
                                               "\" has no selector");
  }
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "," : "") + parts[i];
  return out;
}

const json* MostActivePod(const std::vector<json>& pods) {
  if (pods.empty()) return nullptr;
  const json* best = &pods[0];
  // sort.Reverse(ActivePods)[0] is the maximum under ActiveLess.
  for (const auto& p : pods)
    if (ActiveLess(*best, p)) best = &p;
  return best;
}

std::string PodPhase(const json& pod) { return Str(Path(pod, {"status", "phase"})); }

Result<ContainerChoice> ChooseContainer(const json& pod, const std::string& requested, bool quiet) {
  std::string pod_name = Name(pod);
  if (!requested.empty()) {
    if (!HasContainer(pod, requested))
      return MakeError(ErrorCode::kNotFound,
                       "container " + requested + " not found in pod " + pod_name);
    return ContainerChoice{requested, ""};
  }
  const json& cs = Path(pod, {"spec", "containers"});
  if (!cs.is_array() || cs.empty())
    return MakeError(ErrorCode::kNotFound, "pod " + Str(Path(pod, {"metadata", "namespace"})) +
                                               "/" + pod_name + " does not have any containers");
  std::string annotated =
      Str(Path(pod, {"metadata", "annotations", "kubectl.kubernetes.io/default-container"}));
  if (!annotated.empty() && HasContainer(pod, annotated)) return ContainerChoice{annotated, ""};
  ContainerChoice choice{Str(Path(cs[0], {"name"})), ""};
  std::vector<std::string> names = ContainerNames(pod);
  if (!quiet && names.size() > 1) {
    std::string all;
    for (size_t i = 0; i < names.size(); ++i) all += (i ? ", " : "") + names[i];
    choice.notice = "Defaulted container \"" + choice.name + "\" out of: " + all;
  }
  return choice;
}

Status CheckPodNotCompleted(const json& pod, const std::string& verb) {
  std::string phase = PodPhase(pod);
  if (phase != "Succeeded" && phase != "Failed") return Status::Ok();
  std::string what = verb == "attach" ? "cannot attach a container in a completed pod"
                                      : "cannot exec into a container in a completed pod";
  // kubectl exits 1 here: the pod state, not the configuration, is the problem.
  return MakeError(ErrorCode::kServer, what + "; current phase is " + phase);
}

Result<int> ResolvePodPort(const json& pod, const std::string& port) {
  int n = 0;
  if (ParseInt(port, n)) {
    if (n < 1 || n > 65535)
      return MakeError(ErrorCode::kUsage, "Port " + port + " is out of range");
    return n;
  }
  const json& cs = Path(pod, {"spec", "containers"});
  if (cs.is_array())
    for (const auto& c : cs) {
      const json& ports = Path(c, {"ports"});
      if (!ports.is_array()) continue;
      for (const auto& p : ports)
        if (Str(Path(p, {"name"})) == port && Path(p, {"containerPort"}).is_number_integer())
          return Path(p, {"containerPort"}).get<int>();
    }
  return MakeError(ErrorCode::kNotFound,
                   "Pod '" + Name(pod) + "' does not have a named port '" + port + "'");
}

Result<int> ResolveServicePort(const json& service, const json& pod, const std::string& port) {
  const json& ports = Path(service, {"spec", "ports"});
  int wanted = 0;
  bool by_number = ParseInt(port, wanted);
  if (ports.is_array()) {
    for (const auto& sp : ports) {
      const json& num = Path(sp, {"port"});
      if (!num.is_number_integer()) continue;
      bool match = by_number ? num.get<int>() == wanted : Str(Path(sp, {"name"})) == port;
      if (!match) continue;
      const json& target = Path(sp, {"targetPort"});
      if (target.is_number_integer())
        return target.get<int>() == 0 ? num.get<int>() : target.get<int>();
      if (target.is_string()) {
        int t = 0;
        if (ParseInt(target.get<std::string>(), t)) return t;
        return ResolvePodPort(pod, target.get<std::string>());
      }
      return num.get<int>();
    }
  }
  if (by_number)
    return MakeError(ErrorCode::kNotFound,
                     "Service " + Name(service) + " does not have a service port " + port);
  return MakeError(ErrorCode::kNotFound,
                   "Service '" + Name(service) + "' does not have a named port '" + port + "'");
}

}  // namespace kproxy
