#include "tests/sim/api/discovery.h"

namespace kproxy::sim {

namespace {

struct GroupVersion {
  const char* group;
  const char* version;
};

// Every group/version served; authorization/authentication carry the review resources only.
const GroupVersion kGroups[] = {
    {"apps", "v1"},
    {"batch", "v1"},
    {"authentication.k8s.io", "v1"},
    {"authorization.k8s.io", "v1"},
};

Json Resource(const std::string& name, const std::string& singular, bool namespaced,
              const std::string& kind, std::vector<std::string> verbs,
              std::vector<std::string> short_names = {}, bool in_all = false) {
  Json r;
  r["name"] = name;
  r["singularName"] = singular;
  r["namespaced"] = namespaced;
  r["kind"] = kind;
  r["verbs"] = verbs;
  if (!short_names.empty()) r["shortNames"] = short_names;
  if (in_all) r["categories"] = Json::array({"all"});
  return r;
}

const std::vector<std::string> kReadVerbs = {"get", "list", "watch"};

Json ResourceList(const std::string& group, const std::string& version) {
  Json j;
  j["kind"] = "APIResourceList";
  j["apiVersion"] = "v1";
  j["groupVersion"] = group.empty() ? version : group + "/" + version;
  Json res = Json::array();
  for (const ResourceType& t : ResourceTypes()) {
    if (group != t.group || version != t.version) continue;
    std::vector<std::string> shorts(t.short_names.begin(), t.short_names.end());
    bool in_all = std::string(t.resource) != "namespaces";
    res.push_back(
        Resource(t.resource, t.singular, t.namespaced, t.kind, kReadVerbs, shorts, in_all));
    if (std::string(t.resource) == "pods") {
      res.push_back(Resource("pods/attach", "", true, "PodAttachOptions", {"create", "get"}));
      res.push_back(Resource("pods/exec", "", true, "PodExecOptions", {"create", "get"}));
      res.push_back(Resource("pods/log", "", true, "Pod", {"get"}));
      res.push_back(
          Resource("pods/portforward", "", true, "PodPortForwardOptions", {"create", "get"}));
      res.push_back(Resource("pods/status", "", true, "Pod", {"get"}));
    }
    if (std::string(t.resource) == "services") {
      res.push_back(Resource("services/proxy", "", true, "ServiceProxyOptions", {"get"}));
    }
  }
  if (group == "authorization.k8s.io") {
    res.push_back(Resource("selfsubjectaccessreviews", "selfsubjectaccessreview", false,
                           "SelfSubjectAccessReview", {"create"}));
  }
  if (group == "authentication.k8s.io") {
    res.push_back(Resource("selfsubjectreviews", "selfsubjectreview", false, "SelfSubjectReview",
                           {"create"}));
  }
  j["resources"] = res;
  return j;
}

Json GroupJson(const GroupVersion& gv) {
  Json v = {{"groupVersion", std::string(gv.group) + "/" + gv.version}, {"version", gv.version}};
  return {{"name", gv.group}, {"versions", Json::array({v})}, {"preferredVersion", v}};
}

}  // namespace

std::optional<Json> DiscoveryDocument(const Fixture& fixture, const std::string& path,
                                      const std::string& server_address) {
  if (path == "/version" || path == "/version/") {
    std::string git = fixture.server_version;  // "v1.33.1"
    std::string minor = "33";
    size_t dot1 = git.find('.'), dot2 = git.find('.', dot1 == std::string::npos ? 0 : dot1 + 1);
    if (dot1 != std::string::npos && dot2 != std::string::npos)
      minor = git.substr(dot1 + 1, dot2 - dot1 - 1);
    return Json{{"major", "1"},
                {"minor", minor},
                {"gitVersion", git},
                {"gitCommit", "8adc0f041b8e7ad1d30e29cc59c6ae7a15e19828"},
                {"gitTreeState", "clean"},
                {"buildDate", "2025-05-15T08:19:08Z"},
                {"goVersion", "go1.24.2"},
                {"compiler", "gc"},
                {"platform", "linux/amd64"}};
  }
  if (path == "/api" || path == "/api/") {
    return Json{{"kind", "APIVersions"},
                {"versions", Json::array({"v1"})},
                {"serverAddressByClientCIDRs",
                 Json::array({{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}})}};
  }
  if (path == "/apis" || path == "/apis/") {
    Json groups = Json::array();
    for (const GroupVersion& gv : kGroups) groups.push_back(GroupJson(gv));
    return Json{{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
  }
  if (path == "/api/v1" || path == "/api/v1/") return ResourceList("", "v1");
  for (const GroupVersion& gv : kGroups) {
    std::string g = std::string("/apis/") + gv.group;
    if (path == g || path == g + "/") {
      Json j = GroupJson(gv);
      Json out = {{"kind", "APIGroup"}, {"apiVersion", "v1"}};
      for (auto& [k, v] : j.items()) out[k] = v;
      return out;
    }
    if (path == g + "/" + gv.version || path == g + "/" + gv.version + "/") {
      return ResourceList(gv.group, gv.version);
    }
  }
  return std::nullopt;
}

namespace {

// The discovery version a client's Accept asks for: "v2", "v2beta1" or "" (legacy). Media
// ranges are tried in order, as client-go lists them by preference.
std::string WantedAggregatedVersion(const std::string& accept) {
  size_t start = 0;
  while (start <= accept.size()) {
    size_t comma = accept.find(',', start);
    std::string range =
        accept.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    bool is_discovery = false, is_list = false;
    std::string version;
    size_t p = 0;
    while (p <= range.size()) {
      size_t semi = range.find(';', p);
      std::string param = range.substr(p, semi == std::string::npos ? std::string::npos : semi - p);
      while (!param.empty() && param.front() == ' ') param.erase(0, 1);
      while (!param.empty() && param.back() == ' ') param.pop_back();
      if (param == "g=apidiscovery.k8s.io") is_discovery = true;
      if (param == "as=APIGroupDiscoveryList") is_list = true;
      if (param.rfind("v=", 0) == 0) version = param.substr(2);
      if (semi == std::string::npos) break;
      p = semi + 1;
    }
    if (is_discovery && is_list && (version == "v2" || version == "v2beta1")) return version;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return "";
}

// Legacy APIResourceList entries → one apidiscovery version entry, subresources folded in.
Json AggregatedVersion(const std::string& group, const std::string& version) {
  Json legacy = ResourceList(group, version)["resources"];
  Json resources = Json::array();
  for (const auto& r : legacy) {
    std::string name = r["name"];
    Json kind = {{"group", group}, {"version", version}, {"kind", r["kind"]}};
    size_t slash = name.find('/');
    if (slash != std::string::npos) {
      for (auto& parent : resources) {
        if (parent["resource"] == name.substr(0, slash)) {
          parent["subresources"].push_back({{"subresource", name.substr(slash + 1)},
                                            {"responseKind", kind},
                                            {"verbs", r["verbs"]}});
        }
      }
      continue;
    }
    Json a;
    a["resource"] = name;
    a["responseKind"] = kind;
    a["scope"] = r["namespaced"].get<bool>() ? "Namespaced" : "Cluster";
    a["singularResource"] = r["singularName"];
    a["verbs"] = r["verbs"];
    if (r.contains("shortNames")) a["shortNames"] = r["shortNames"];
    if (r.contains("categories")) a["categories"] = r["categories"];
    a["subresources"] = Json::array();
    resources.push_back(a);
  }
  for (auto& r : resources)
    if (r["subresources"].empty()) r.erase("subresources");
  return {{"version", version}, {"resources", resources}, {"freshness", "Current"}};
}

}  // namespace

std::optional<AggregatedDocument> AggregatedDiscovery(const std::string& path,
                                                      const std::string& accept) {
  std::string v = WantedAggregatedVersion(accept);
  if (v.empty()) return std::nullopt;
  Json items = Json::array();
  if (path == "/api" || path == "/api/") {
    items.push_back({{"metadata", {{"creationTimestamp", nullptr}}},
                     {"versions", Json::array({AggregatedVersion("", "v1")})}});
  } else if (path == "/apis" || path == "/apis/") {
    for (const GroupVersion& gv : kGroups) {
      items.push_back({{"metadata", {{"name", gv.group}, {"creationTimestamp", nullptr}}},
                       {"versions", Json::array({AggregatedVersion(gv.group, gv.version)})}});
    }
  } else {
    return std::nullopt;
  }
  AggregatedDocument doc;
  doc.body = {{"kind", "APIGroupDiscoveryList"},
              {"apiVersion", "apidiscovery.k8s.io/" + v},
              {"metadata", Json::object()},
              {"items", items}};
  doc.content_type = "application/json;g=apidiscovery.k8s.io;v=" + v + ";as=APIGroupDiscoveryList";
  return doc;
}

}  // namespace kproxy::sim
