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

}  // namespace kproxy::sim
