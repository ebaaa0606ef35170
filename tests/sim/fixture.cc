#include "tests/sim/fixture.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "tests/sim/server/http_request.h"
#include "tests/support/test_env.h"

namespace kproxy::sim {

namespace {

// yaml-cpp reports problems by throwing; this file keeps them inside and returns an Error.
struct FixtureError {
  std::string message;
};

std::string Str(const YAML::Node& n, const char* key, const std::string& def = "") {
  const YAML::Node v = n[key];
  if (!v) return def;
  if (!v.IsScalar()) throw FixtureError{std::string(key) + " must be a string"};
  return v.as<std::string>();
}

int Int(const YAML::Node& n, const char* key, int def) {
  const YAML::Node v = n[key];
  if (!v) return def;
  try {
    return v.as<int>();
  } catch (const YAML::Exception&) {
    throw FixtureError{std::string(key) + " must be a number"};
  }
}

bool Bool(const YAML::Node& n, const char* key, bool def) {
  const YAML::Node v = n[key];
  if (!v) return def;
  try {
    return v.as<bool>();
  } catch (const YAML::Exception&) {
    throw FixtureError{std::string(key) + " must be true or false"};
  }
}

std::vector<std::string> List(const YAML::Node& n, const char* key,
                              std::vector<std::string> def = {}) {
  const YAML::Node v = n[key];
  if (!v) return def;
  if (v.IsScalar()) return {v.as<std::string>()};
  if (!v.IsSequence()) throw FixtureError{std::string(key) + " must be a list"};
  std::vector<std::string> out;
  for (const auto& item : v) out.push_back(item.as<std::string>());
  return out;
}

std::map<std::string, std::string> Map(const YAML::Node& n, const char* key) {
  std::map<std::string, std::string> out;
  const YAML::Node v = n[key];
  if (!v) return out;
  if (!v.IsMap()) throw FixtureError{std::string(key) + " must be a map"};
  for (const auto& kv : v) out[kv.first.as<std::string>()] = kv.second.as<std::string>();
  return out;
}

std::vector<Rule> Rules(const YAML::Node& n) {
  std::vector<Rule> out;
  for (const auto& r : n["rules"]) {
    Rule rule;
    rule.verbs = List(r, "verbs");
    rule.api_groups = List(r, "apiGroups", {"*"});
    rule.resources = List(r, "resources");
    rule.resource_names = List(r, "resourceNames");
    rule.namespaces = List(r, "namespaces", {"*"});
    rule.non_resource_urls = List(r, "nonResourceURLs");
    out.push_back(std::move(rule));
  }
  return out;
}

std::vector<OwnerRef> Owners(const YAML::Node& n) {
  std::vector<OwnerRef> out;
  for (const auto& o : n["ownerReferences"]) {
    OwnerRef ref;
    ref.kind = Str(o, "kind");
    ref.name = Str(o, "name");
    ref.api_version = Str(o, "apiVersion", ref.kind == "Job" ? "batch/v1" : "apps/v1");
    ref.uid = Str(o, "uid", "uid-" + ToLower(ref.kind) + "-" + ref.name);
    out.push_back(std::move(ref));
  }
  return out;
}

std::string Uid(const std::string& kind, const std::string& ns, const std::string& name) {
  // Stable, readable UIDs: the same fixture always yields the same objects.
  std::hash<std::string> h;
  char buf[64];
  size_t v = h(kind + "/" + ns + "/" + name);
  snprintf(buf, sizeof buf, "%08zx-%04zx-4%03zx-8%03zx-%012zx", v & 0xffffffff, (v >> 32) & 0xffff,
           (v >> 20) & 0xfff, (v >> 8) & 0xfff, v & 0xffffffffffff);
  return buf;
}

Fixture Parse(const YAML::Node& root) {
  Fixture f;
  if (!root.IsMap()) throw FixtureError{"the fixture must be a YAML map"};
  f.server_version = Str(root, "serverVersion", f.server_version);
  for (const auto& u : root["users"]) {
    User user;
    user.name = Str(u, "name");
    if (user.name.empty()) throw FixtureError{"every user needs a name"};
    user.token = Str(u, "token");
    user.password = Str(u, "password");
    user.email = Str(u, "email");
    user.uid = Str(u, "uid", Uid("User", "", user.name));
    user.groups = List(u, "groups");
    user.rules = Rules(u);
    f.users.push_back(std::move(user));
  }
  for (const auto& g : root["groups"]) f.groups.push_back(Group{Str(g, "name"), Rules(g)});
  f.namespaces = List(root, "namespaces", {"default"});
  int ip = 10;
  for (const auto& p : root["pods"]) {
    Pod pod;
    pod.name = Str(p, "name");
    pod.namespace_ = Str(p, "namespace", "default");
    if (pod.name.empty()) throw FixtureError{"every pod needs a name"};
    pod.uid = Str(p, "uid", Uid("Pod", pod.namespace_, pod.name));
    pod.labels = Map(p, "labels");
    pod.annotations = Map(p, "annotations");
    pod.owners = Owners(p);
    pod.phase = Str(p, "phase", "Running");
    pod.node = Str(p, "node", "sim-node-1");
    pod.pod_ip = Str(p, "podIP", "10.244.0." + std::to_string(ip++));
    pod.log = Str(p, "log");
    pod.age_seconds = Int(p, "ageSeconds", 3600);
    for (const auto& c : p["containers"]) {
      Container ct;
      ct.name = Str(c, "name");
      ct.image = Str(c, "image", "busybox:1.36");
      ct.command = List(c, "command", {"sh"});
      ct.tty = Bool(c, "tty", false);
      ct.stdin = Bool(c, "stdin", false);
      ct.ready = Bool(c, "ready", pod.phase == "Running");
      ct.restart_count = Int(c, "restartCount", 0);
      for (const auto& port : c["ports"]) {
        ContainerPort cp;
        cp.name = Str(port, "name");
        cp.container_port = Int(port, "containerPort", 0);
        cp.protocol = Str(port, "protocol", "TCP");
        if (cp.container_port <= 0 || cp.container_port > 65535) {
          throw FixtureError{"pod " + pod.name + ": containerPort out of range"};
        }
        ct.ports.push_back(std::move(cp));
      }
      pod.containers.push_back(std::move(ct));
    }
    if (pod.containers.empty()) throw FixtureError{"pod " + pod.name + " has no containers"};
    if (const YAML::Node pm = p["portMap"]) {
      for (const auto& kv : pm) pod.port_map[kv.first.as<int>()] = kv.second.as<int>();
    }
    f.pods.push_back(std::move(pod));
  }
  static const std::pair<const char*, const char*> kKinds[] = {{"deployments", "Deployment"},
                                                               {"replicasets", "ReplicaSet"},
                                                               {"statefulsets", "StatefulSet"},
                                                               {"daemonsets", "DaemonSet"},
                                                               {"jobs", "Job"}};
  for (const auto& [key, kind] : kKinds) {
    for (const auto& w : root[key]) {
      Workload wl;
      wl.kind = kind;
      wl.name = Str(w, "name");
      wl.namespace_ = Str(w, "namespace", "default");
      wl.uid = Str(w, "uid", "uid-" + ToLower(wl.kind) + "-" + wl.name);
      wl.labels = Map(w, "labels");
      wl.selector = Map(w, "selector");
      wl.replicas = Int(w, "replicas", 1);
      wl.owners = Owners(w);
      wl.age_seconds = Int(w, "ageSeconds", 7200);
      f.workloads.push_back(std::move(wl));
    }
  }
  for (const auto& s : root["services"]) {
    Service svc;
    svc.name = Str(s, "name");
    svc.namespace_ = Str(s, "namespace", "default");
    svc.uid = Str(s, "uid", Uid("Service", svc.namespace_, svc.name));
    svc.cluster_ip = Str(s, "clusterIP", "10.96.0." + std::to_string(ip++));
    svc.type = Str(s, "type", "ClusterIP");
    svc.labels = Map(s, "labels");
    svc.selector = Map(s, "selector");
    for (const auto& p : s["ports"]) {
      ServicePort sp;
      sp.name = Str(p, "name");
      sp.port = Int(p, "port", 0);
      sp.protocol = Str(p, "protocol", "TCP");
      const YAML::Node tp = p["targetPort"];
      if (!tp) {
        sp.target_port_number = sp.port;
      } else {
        std::string text = tp.as<std::string>();
        bool numeric = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        if (numeric) {
          sp.target_port_number = std::stoi(text.substr(0, 6));
        } else {
          sp.target_port_name = text;
        }
      }
      svc.ports.push_back(std::move(sp));
    }
    f.services.push_back(std::move(svc));
  }
  if (const YAML::Node px = root["proxy"]) {
    f.proxy.service_account = Str(px, "serviceAccount", f.proxy.service_account);
    f.proxy.allowed_redirect_hosts =
        List(px, "allowedRedirectHosts", f.proxy.allowed_redirect_hosts);
    for (const auto& r : px["routes"]) {
      ProxyRoute route;
      route.name = Str(r, "name", "default");
      route.allowed_users = List(r, "allowedUsers");
      route.allowed_groups = List(r, "allowedGroups");
      route.allow_websocket = Bool(r, "allowWebSocket", true);
      route.allow_spdy = Bool(r, "allowSPDY", true);
      f.proxy.routes.push_back(std::move(route));
    }
  }
  if (f.proxy.routes.empty()) {
    ProxyRoute all;
    all.allowed_users = {"*"};
    f.proxy.routes.push_back(all);
  }
  return f;
}

}  // namespace

Result<Fixture> ParseFixture(const std::string& yaml_text) {
  try {
    return Parse(YAML::Load(yaml_text));
  } catch (const FixtureError& e) {
    return MakeError(ErrorCode::kConfig, "fixture: " + e.message);
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kConfig, std::string("fixture: ") + e.what());
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kConfig, std::string("fixture: ") + e.what());
  }
}

Result<Fixture> LoadFixture(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return MakeError(ErrorCode::kConfig, "cannot read fixture " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseFixture(ss.str());
}

std::filesystem::path DefaultFixturePath() {
  return kproxy::test::SourceDir() / "tests" / "data" / "sim" / "default.yaml";
}

const User* Fixture::FindUserByToken(const std::string& token) const {
  if (token.empty()) return nullptr;
  for (const User& u : users)
    if (u.token == token) return &u;
  return nullptr;
}

const User* Fixture::FindUser(const std::string& name) const {
  for (const User& u : users)
    if (u.name == name) return &u;
  return nullptr;
}

const Group* Fixture::FindGroup(const std::string& name) const {
  for (const Group& g : groups)
    if (g.name == name) return &g;
  return nullptr;
}

const Pod* Fixture::FindPod(const std::string& ns, const std::string& name) const {
  for (const Pod& p : pods)
    if (p.namespace_ == ns && p.name == name) return &p;
  return nullptr;
}

const Service* Fixture::FindService(const std::string& ns, const std::string& name) const {
  for (const Service& s : services)
    if (s.namespace_ == ns && s.name == name) return &s;
  return nullptr;
}

const Workload* Fixture::FindWorkload(const std::string& kind, const std::string& ns,
                                      const std::string& name) const {
  for (const Workload& w : workloads)
    if (w.kind == kind && w.namespace_ == ns && w.name == name) return &w;
  return nullptr;
}

bool Fixture::HasNamespace(const std::string& ns) const {
  for (const std::string& n : namespaces)
    if (n == ns) return true;
  return false;
}

std::optional<int> Fixture::LocalPortFor(const Pod& pod, int container_port) const {
  auto it = pod.port_map.find(container_port);
  if (it == pod.port_map.end()) return std::nullopt;
  return it->second;
}

}  // namespace kproxy::sim
