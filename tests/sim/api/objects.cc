#include "tests/sim/api/objects.h"

namespace kproxy::sim {

namespace {

const char kResourceVersion[] = "1042";

Json Labels(const std::map<std::string, std::string>& m) {
  Json j = Json::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}

Json Metadata(const std::string& name, const std::string& ns, const std::string& uid,
              const std::map<std::string, std::string>& labels,
              const std::map<std::string, std::string>& annotations,
              const std::vector<OwnerRef>& owners, time_t now, int age) {
  Json m;
  m["name"] = name;
  if (!ns.empty()) m["namespace"] = ns;
  m["uid"] = uid;
  m["resourceVersion"] = kResourceVersion;
  m["creationTimestamp"] = Timestamp(now, age);
  if (!labels.empty()) m["labels"] = Labels(labels);
  if (!annotations.empty()) m["annotations"] = Labels(annotations);
  if (!owners.empty()) {
    Json refs = Json::array();
    for (const OwnerRef& o : owners) {
      refs.push_back({{"apiVersion", o.api_version},
                      {"kind", o.kind},
                      {"name", o.name},
                      {"uid", o.uid},
                      {"controller", true},
                      {"blockOwnerDeletion", true}});
    }
    m["ownerReferences"] = refs;
  }
  return m;
}

std::string SelectorText(const std::map<std::string, std::string>& sel) {
  std::string out;
  for (const auto& [k, v] : sel) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out.empty() ? "<none>" : out;
}

Json Column(const char* name, const char* type, const char* format, const char* description,
            int priority) {
  return {{"name", name},
          {"type", type},
          {"format", format},
          {"description", description},
          {"priority", priority}};
}

int CountPods(const Fixture& f, const Workload& w) {
  int n = 0;
  for (const Pod& p : f.pods) {
    if (p.namespace_ != w.namespace_ || w.selector.empty()) continue;
    bool match = true;
    for (const auto& [k, v] : w.selector) {
      auto it = p.labels.find(k);
      match = match && it != p.labels.end() && it->second == v;
    }
    if (match && (p.phase == "Running" || w.kind == "Job")) ++n;
  }
  return n;
}

}  // namespace

const std::vector<ResourceType>& ResourceTypes() {
  static const std::vector<ResourceType> kTypes = {
      {"pods", "", "v1", "Pod", "pod", true, {"po"}},
      {"services", "", "v1", "Service", "service", true, {"svc"}},
      {"namespaces", "", "v1", "Namespace", "namespace", false, {"ns"}},
      {"deployments", "apps", "v1", "Deployment", "deployment", true, {"deploy"}},
      {"replicasets", "apps", "v1", "ReplicaSet", "replicaset", true, {"rs"}},
      {"statefulsets", "apps", "v1", "StatefulSet", "statefulset", true, {"sts"}},
      {"daemonsets", "apps", "v1", "DaemonSet", "daemonset", true, {"ds"}},
      {"jobs", "batch", "v1", "Job", "job", true, {}},
  };
  return kTypes;
}

const ResourceType* FindResourceType(const std::string& group, const std::string& resource) {
  for (const ResourceType& t : ResourceTypes())
    if (group == t.group && resource == t.resource) return &t;
  return nullptr;
}

std::string Timestamp(time_t now, int age_seconds) {
  time_t t = now - age_seconds;
  tm utc{};
  gmtime_r(&t, &utc);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

std::string HumanDuration(long s) {
  auto str = [](long v, const char* unit) { return std::to_string(v) + unit; };
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 120) return str(s, "s");
  long minutes = s / 60;
  if (minutes < 10) return s % 60 == 0 ? str(minutes, "m") : str(minutes, "m") + str(s % 60, "s");
  if (minutes < 180) return str(minutes, "m");
  long hours = s / 3600;
  if (hours < 8)
    return minutes % 60 == 0 ? str(hours, "h") : str(hours, "h") + str(minutes % 60, "m");
  if (hours < 48) return str(hours, "h");
  if (hours < 24 * 8)
    return hours % 24 == 0 ? str(hours / 24, "d") : str(hours / 24, "d") + str(hours % 24, "h");
  if (hours < 24 * 365 * 2) return str(hours / 24, "d");
  if (hours < 24 * 365 * 8) {
    long days = (hours / 24) % 365;
    return days == 0 ? str(hours / 24 / 365, "y") : str(hours / 24 / 365, "y") + str(days, "d");
  }
  return str(hours / 24 / 365, "y");
}

Json PodJson(const Pod& pod, time_t now) {
  Json j;
  j["kind"] = "Pod";
  j["apiVersion"] = "v1";
  j["metadata"] = Metadata(pod.name, pod.namespace_, pod.uid, pod.labels, pod.annotations,
                           pod.owners, now, pod.age_seconds);
  Json containers = Json::array();
  Json statuses = Json::array();
  bool all_ready = true;
  for (const Container& c : pod.containers) {
    Json cj;
    cj["name"] = c.name;
    cj["image"] = c.image;
    if (!c.command.empty()) cj["command"] = c.command;
    if (!c.ports.empty()) {
      Json ports = Json::array();
      for (const ContainerPort& p : c.ports) {
        Json pj;
        if (!p.name.empty()) pj["name"] = p.name;
        pj["containerPort"] = p.container_port;
        pj["protocol"] = p.protocol;
        ports.push_back(pj);
      }
      cj["ports"] = ports;
    }
    cj["resources"] = Json::object();
    cj["terminationMessagePath"] = "/dev/termination-log";
    cj["terminationMessagePolicy"] = "File";
    cj["imagePullPolicy"] = "IfNotPresent";
    if (c.stdin) cj["stdin"] = true;
    if (c.tty) cj["tty"] = true;
    containers.push_back(cj);

    Json st;
    st["name"] = c.name;
    if (pod.phase == "Running") {
      st["state"] = {{"running", {{"startedAt", Timestamp(now, pod.age_seconds - 5)}}}};
    } else if (pod.phase == "Succeeded" || pod.phase == "Failed") {
      st["state"] = {{"terminated",
                      {{"exitCode", pod.phase == "Succeeded" ? 0 : 1},
                       {"reason", pod.phase == "Succeeded" ? "Completed" : "Error"},
                       {"startedAt", Timestamp(now, pod.age_seconds - 5)},
                       {"finishedAt", Timestamp(now, pod.age_seconds - 30)}}}};
    } else {
      st["state"] = {{"waiting", {{"reason", "ContainerCreating"}}}};
    }
    st["lastState"] = Json::object();
    st["ready"] = c.ready;
    st["restartCount"] = c.restart_count;
    st["image"] = c.image;
    st["imageID"] = "docker.io/library/" + c.image;
    st["containerID"] = "containerd://" + pod.uid.substr(0, 8) + c.name;
    st["started"] = pod.phase == "Running";
    statuses.push_back(st);
    all_ready = all_ready && c.ready;
  }
  j["spec"] = {{"containers", containers},
               {"restartPolicy", "Always"},
               {"terminationGracePeriodSeconds", 30},
               {"dnsPolicy", "ClusterFirst"},
               {"serviceAccountName", "default"},
               {"serviceAccount", "default"},
               {"nodeName", pod.node},
               {"securityContext", Json::object()},
               {"schedulerName", "default-scheduler"},
               {"enableServiceLinks", true},
               {"preemptionPolicy", "PreemptLowerPriority"}};
  bool running = pod.phase == "Running";
  Json conditions = Json::array();
  auto cond = [&](const char* type, bool ok) {
    conditions.push_back({{"type", type},
                          {"status", ok ? "True" : "False"},
                          {"lastProbeTime", nullptr},
                          {"lastTransitionTime", Timestamp(now, pod.age_seconds - 3)}});
  };
  cond("Initialized", true);
  cond("Ready", running && all_ready);
  cond("ContainersReady", running && all_ready);
  cond("PodScheduled", true);
  j["status"] = {{"phase", pod.phase},
                 {"conditions", conditions},
                 {"hostIP", "172.18.0.2"},
                 {"hostIPs", Json::array({{{"ip", "172.18.0.2"}}})},
                 {"podIP", pod.pod_ip},
                 {"podIPs", Json::array({{{"ip", pod.pod_ip}}})},
                 {"startTime", Timestamp(now, pod.age_seconds)},
                 {"containerStatuses", statuses},
                 {"qosClass", "BestEffort"}};
  return j;
}

Json WorkloadJson(const Fixture& fixture, const Workload& w, time_t now) {
  Json j;
  j["kind"] = w.kind;
  j["apiVersion"] = w.kind == "Job" ? "batch/v1" : "apps/v1";
  j["metadata"] = Metadata(w.name, w.namespace_, w.uid, w.labels, {}, w.owners, now, w.age_seconds);
  Json spec;
  int ready = CountPods(fixture, w);
  if (w.kind != "DaemonSet" && w.kind != "Job") spec["replicas"] = w.replicas;
  if (w.kind == "Job") {
    spec["completions"] = w.replicas;
    spec["parallelism"] = 1;
    spec["backoffLimit"] = 6;
  }
  spec["selector"] = {{"matchLabels", Labels(w.selector)}};
  spec["template"] = {
      {"metadata", {{"labels", Labels(w.selector)}}},
      {"spec", {{"containers", Json::array({{{"name", "main"}, {"image", "busybox:1.36"}}})}}}};
  j["spec"] = spec;
  Json status;
  if (w.kind == "Job") {
    status["succeeded"] = ready;
    status["startTime"] = Timestamp(now, w.age_seconds);
    if (ready >= w.replicas) status["completionTime"] = Timestamp(now, w.age_seconds - 12);
  } else if (w.kind == "DaemonSet") {
    status = {{"currentNumberScheduled", ready},
              {"desiredNumberScheduled", ready},
              {"numberReady", ready},
              {"numberAvailable", ready},
              {"updatedNumberScheduled", ready},
              {"numberMisscheduled", 0},
              {"observedGeneration", 1}};
  } else {
    status = {{"observedGeneration", 1},
              {"replicas", ready},
              {"readyReplicas", ready},
              {"availableReplicas", ready},
              {"updatedReplicas", ready}};
    if (w.kind == "StatefulSet") status["currentReplicas"] = ready;
  }
  j["status"] = status;
  return j;
}

Json ServiceJson(const Service& svc, time_t now) {
  Json j;
  j["kind"] = "Service";
  j["apiVersion"] = "v1";
  j["metadata"] =
      Metadata(svc.name, svc.namespace_, svc.uid, svc.labels, {}, {}, now, svc.age_seconds);
  Json ports = Json::array();
  for (const ServicePort& p : svc.ports) {
    Json pj;
    if (!p.name.empty()) pj["name"] = p.name;
    pj["protocol"] = p.protocol;
    pj["port"] = p.port;
    if (p.target_port_name.empty()) {
      pj["targetPort"] = p.target_port_number;
    } else {
      pj["targetPort"] = p.target_port_name;
    }
    ports.push_back(pj);
  }
  Json spec;
  spec["ports"] = ports;
  if (!svc.selector.empty()) spec["selector"] = Labels(svc.selector);
  spec["clusterIP"] = svc.cluster_ip;
  spec["clusterIPs"] = Json::array({svc.cluster_ip});
  spec["type"] = svc.type;
  spec["sessionAffinity"] = "None";
  spec["ipFamilies"] = Json::array({"IPv4"});
  spec["ipFamilyPolicy"] = "SingleStack";
  spec["internalTrafficPolicy"] = "Cluster";
  j["spec"] = spec;
  j["status"] = {{"loadBalancer", Json::object()}};
  return j;
}

Json NamespaceJson(const std::string& name, time_t now) {
  Json j;
  j["kind"] = "Namespace";
  j["apiVersion"] = "v1";
  j["metadata"] = Metadata(name, "", "uid-namespace-" + name,
                           {{"kubernetes.io/metadata.name", name}}, {}, {}, now, 86400);
  j["spec"] = {{"finalizers", Json::array({"kubernetes"})}};
  j["status"] = {{"phase", "Active"}};
  return j;
}

Json ListJson(const ResourceType& type, std::vector<Json> items) {
  Json j;
  j["kind"] = std::string(type.kind) + "List";
  j["apiVersion"] = std::string(type.group).empty() ? std::string(type.version)
                                                    : std::string(type.group) + "/" + type.version;
  j["metadata"] = {{"resourceVersion", kResourceVersion}};
  j["items"] = Json::array();
  for (Json& item : items) {
    // Items in a list carry no kind/apiVersion, as the apiserver encodes them.
    item.erase("kind");
    item.erase("apiVersion");
    j["items"].push_back(std::move(item));
  }
  return j;
}

bool WantsTable(const std::string& accept) {
  return accept.find("as=Table") != std::string::npos &&
         accept.find("g=meta.k8s.io") != std::string::npos;
}

Json TableJson(const Fixture& fixture, const ResourceType& type, const std::vector<Json>& objects,
               const std::string& include_object, time_t now) {
  const char* kNameDesc =
      "Name must be unique within a namespace. Is required when creating resources, although "
      "some resources may allow a client to request the generation of an appropriate name "
      "automatically. Name is primarily intended for creation idempotence and configuration "
      "definition. Cannot be updated. More info: "
      "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
  const char* kAgeDesc =
      "CreationTimestamp is a timestamp representing the server time when this object was "
      "created.";
  std::string kind = type.kind;
  Json cols = Json::array();
  cols.push_back(Column("Name", "string", "name", kNameDesc, 0));
  if (kind == "Pod") {
    cols.push_back(Column("Ready", "string", "",
                          "The aggregate readiness state of this pod for accepting traffic.", 0));
    cols.push_back(
        Column("Status", "string", "", "The aggregate status of the containers in this pod.", 0));
    cols.push_back(Column("Restarts", "string", "",
                          "The number of times the containers in this pod have been restarted and "
                          "when the last container in this pod has restarted.",
                          0));
    cols.push_back(Column("Age", "string", "", kAgeDesc, 0));
    cols.push_back(Column("IP", "string", "",
                          "IP address allocated to the pod. Routable at least within the cluster. "
                          "Empty if not yet allocated.",
                          1));
    cols.push_back(Column("Node", "string", "",
                          "NodeName is a request to schedule this pod onto a specific node.", 1));
    cols.push_back(Column("Nominated Node", "string", "",
                          "nominatedNodeName is set when this pod preempts other pods on the node.",
                          1));
    cols.push_back(Column("Readiness Gates", "string", "",
                          "If specified, all readiness gates will be evaluated for pod readiness.",
                          1));
  } else if (kind == "Deployment") {
    cols.push_back(Column("Ready", "string", "", "Number of the pod with ready state", 0));
    cols.push_back(Column("Up-to-date", "string", "",
                          "Total number of non-terminated pods targeted by this deployment that "
                          "have the desired template spec.",
                          0));
    cols.push_back(Column("Available", "string", "",
                          "Total number of available pods (ready for at least minReadySeconds) "
                          "targeted by this deployment.",
                          0));
    cols.push_back(Column("Age", "string", "", kAgeDesc, 0));
    cols.push_back(Column("Selector", "string", "", "Label selector for pods.", 1));
  } else if (kind == "ReplicaSet" || kind == "DaemonSet") {
    cols.push_back(Column("Desired", "integer", "", "Number of desired pods.", 0));
    cols.push_back(Column("Current", "integer", "", "Number of actual pods.", 0));
    cols.push_back(Column("Ready", "integer", "", "Number of ready pods.", 0));
    cols.push_back(Column("Age", "string", "", kAgeDesc, 0));
    cols.push_back(Column("Selector", "string", "", "Label selector for pods.", 1));
  } else if (kind == "StatefulSet") {
    cols.push_back(Column("Ready", "string", "", "Number of the pod with ready state", 0));
    cols.push_back(Column("Age", "string", "", kAgeDesc, 0));
  } else if (kind == "Job") {
    cols.push_back(
        Column("Completions", "string", "",
               "The desired number of successfully finished pods the job should be run with.", 0));
    cols.push_back(Column("Duration", "string", "", "Time required to complete the job.", 0));
    cols.push_back(Column("Age", "string", "", kAgeDesc, 0));
    cols.push_back(Column("Selector", "string", "", "Label selector for pods.", 1));
  } else if (kind == "Service") {
    cols.push_back(Column("Type", "string", "", "Type of the service.", 0));
    cols.push_back(Column("Cluster-IP", "string", "", "Cluster IP of the service.", 0));
    cols.push_back(Column("External-IP", "string", "", "External IP of the service.", 0));
    cols.push_back(Column("Port(s)", "string", "", "Port(s) of the service.", 0));
    cols.push_back(Column("Age", "string", "", kAgeDesc, 0));
    cols.push_back(Column("Selector", "string", "", "Label selector for pods.", 1));
  } else {
    cols.push_back(Column("Status", "string", "", "The status of the namespace", 0));
    cols.push_back(Column("Age", "string", "", kAgeDesc, 0));
  }

  Json rows = Json::array();
  for (const Json& obj : objects) {
    const Json& md = obj["metadata"];
    std::string name = md["name"];
    std::string ns = md.value("namespace", "");
    Json cells = Json::array({name});
    auto age = [&](int s) { return HumanDuration(s); };
    if (kind == "Pod") {
      const Pod* p = fixture.FindPod(ns, name);
      int ready = 0, restarts = 0;
      for (const Container& c : p->containers) {
        ready += c.ready ? 1 : 0;
        restarts += c.restart_count;
      }
      std::string status = p->phase == "Succeeded" ? "Completed"
                           : p->phase == "Failed"  ? "Error"
                           : p->phase == "Pending" ? "ContainerCreating"
                                                   : p->phase;
      cells.push_back(std::to_string(ready) + "/" + std::to_string(p->containers.size()));
      cells.push_back(status);
      cells.push_back(std::to_string(restarts));
      cells.push_back(age(p->age_seconds));
      cells.push_back(p->pod_ip);
      cells.push_back(p->node);
      cells.push_back("<none>");
      cells.push_back("<none>");
    } else if (kind == "Service") {
      const Service* s = fixture.FindService(ns, name);
      std::string ports;
      for (const ServicePort& sp : s->ports) {
        ports += (ports.empty() ? "" : ",") + std::to_string(sp.port) + "/" + sp.protocol;
      }
      cells.push_back(s->type);
      cells.push_back(s->cluster_ip);
      cells.push_back("<none>");
      cells.push_back(ports.empty() ? "<none>" : ports);
      cells.push_back(age(s->age_seconds));
      cells.push_back(SelectorText(s->selector));
    } else if (kind == "Namespace") {
      cells.push_back("Active");
      cells.push_back(age(86400));
    } else {
      const Workload* w = fixture.FindWorkload(kind, ns, name);
      int ready = CountPods(fixture, *w);
      if (kind == "Deployment") {
        cells.push_back(std::to_string(ready) + "/" + std::to_string(w->replicas));
        cells.push_back(ready);
        cells.push_back(ready);
        cells.push_back(age(w->age_seconds));
        cells.push_back(SelectorText(w->selector));
      } else if (kind == "ReplicaSet" || kind == "DaemonSet") {
        int desired = kind == "DaemonSet" ? ready : w->replicas;
        cells.push_back(desired);
        cells.push_back(ready);
        cells.push_back(ready);
        cells.push_back(age(w->age_seconds));
        cells.push_back(SelectorText(w->selector));
      } else if (kind == "StatefulSet") {
        cells.push_back(std::to_string(ready) + "/" + std::to_string(w->replicas));
        cells.push_back(age(w->age_seconds));
      } else {
        cells.push_back(std::to_string(ready) + "/" + std::to_string(w->replicas));
        cells.push_back(ready >= w->replicas ? "12s" : age(w->age_seconds));
        cells.push_back(age(w->age_seconds));
        cells.push_back(SelectorText(w->selector));
      }
    }
    Json row;
    row["cells"] = cells;
    if (include_object == "Object") {
      row["object"] = obj;
    } else if (include_object != "None") {
      row["object"] = {
          {"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", md}};
    }
    rows.push_back(row);
  }
  (void)now;
  Json table;
  table["kind"] = "Table";
  table["apiVersion"] = "meta.k8s.io/v1";
  table["metadata"] = {{"resourceVersion", kResourceVersion}};
  table["columnDefinitions"] = cols;
  table["rows"] = rows;
  return table;
}

}  // namespace kproxy::sim
