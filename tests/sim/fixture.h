// The simulated cluster's contents, loaded from YAML (tests/data/sim/default.yaml shows every
// field): users and groups with RBAC rules, namespaces, pods, workloads, services, the access
// proxy's routes, and where each pod's container ports are served locally for port-forward.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/base/result.h"

namespace kproxy::sim {

// One RBAC rule. Empty lists never match; "*" matches everything. Resources may name
// subresources ("pods/exec"). Namespaces: "*" = every namespace and the cluster scope.
struct Rule {
  std::vector<std::string> verbs;
  std::vector<std::string> api_groups{"*"};
  std::vector<std::string> resources;
  std::vector<std::string> resource_names;  // empty: any name
  std::vector<std::string> namespaces{"*"};
  std::vector<std::string> non_resource_urls;  // "/version", "/apis/*"
};

struct User {
  std::string name;
  std::string token;
  std::string password;  // access-proxy sign-in
  std::string email;
  std::string uid;
  std::vector<std::string> groups;
  std::vector<Rule> rules;
};

struct Group {
  std::string name;
  std::vector<Rule> rules;
};

struct ContainerPort {
  std::string name;
  int container_port = 0;
  std::string protocol = "TCP";
};

struct Container {
  std::string name;
  std::string image;
  std::vector<std::string> command;
  std::vector<ContainerPort> ports;
  bool tty = false;
  bool stdin = false;
  bool ready = true;
  int restart_count = 0;
};

struct OwnerRef {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string uid;
};

struct Pod {
  std::string name;
  std::string namespace_;
  std::string uid;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::vector<OwnerRef> owners;
  std::vector<Container> containers;
  std::string phase = "Running";
  std::string node = "sim-node-1";
  std::string pod_ip;
  std::string log;              // pods/log text (every container)
  std::map<int, int> port_map;  // container port → local port (port-forward target)
  int age_seconds = 3600;
};

// Deployments, ReplicaSets, StatefulSets, DaemonSets and Jobs share this shape.
struct Workload {
  std::string kind;  // Deployment, ReplicaSet, StatefulSet, DaemonSet, Job
  std::string name;
  std::string namespace_;
  std::string uid;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> selector;
  int replicas = 1;
  std::vector<OwnerRef> owners;
  int age_seconds = 7200;
};

struct ServicePort {
  std::string name;
  int port = 0;
  int target_port_number = 0;    // targetPort given as a number
  std::string target_port_name;  // targetPort given as a container port name
  std::string protocol = "TCP";
};

struct Service {
  std::string name;
  std::string namespace_;
  std::string uid;
  std::string cluster_ip;  // "None": headless
  std::string type = "ClusterIP";
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> selector;
  std::vector<ServicePort> ports;
  int age_seconds = 7200;
};

struct ProxyRoute {
  std::string name = "default";
  std::vector<std::string> allowed_users;  // fixture user names; "*" any signed-in user
  std::vector<std::string> allowed_groups;
  bool allow_websocket = true;
  bool allow_spdy = true;
};

struct ProxySettings {
  std::string service_account = "access-proxy";  // fixture user whose token the proxy uses
  std::vector<ProxyRoute> routes;
  std::vector<std::string> allowed_redirect_hosts{"127.0.0.1", "localhost", "::1"};
};

struct Fixture {
  std::string server_version = "v1.33.1";
  std::vector<User> users;
  std::vector<Group> groups;
  std::vector<std::string> namespaces;
  std::vector<Pod> pods;
  std::vector<Workload> workloads;
  std::vector<Service> services;
  ProxySettings proxy;

  const User* FindUserByToken(const std::string& token) const;
  const User* FindUser(const std::string& name) const;
  const Group* FindGroup(const std::string& name) const;
  const Pod* FindPod(const std::string& ns, const std::string& name) const;
  const Service* FindService(const std::string& ns, const std::string& name) const;
  const Workload* FindWorkload(const std::string& kind, const std::string& ns,
                               const std::string& name) const;
  bool HasNamespace(const std::string& ns) const;
  // The local port serving `container_port` of a pod, for port-forward.
  std::optional<int> LocalPortFor(const Pod& pod, int container_port) const;
};

// Parses fixture YAML text; errors name the offending field.
Result<Fixture> ParseFixture(const std::string& yaml_text);
Result<Fixture> LoadFixture(const std::filesystem::path& path);
// The fixture shipped in tests/data/sim/default.yaml (path relative to the source tree).
std::filesystem::path DefaultFixturePath();

}  // namespace kproxy::sim
