#include <doctest/doctest.h>

#include "core/resolve/resource_ref.h"

namespace kproxy {
namespace {

using json = nlohmann::json;

json Pod(std::string name, std::string phase, bool ready, std::string node = "node-1",
         int restarts = 0, std::string created = "2026-01-01T00:00:00Z",
         std::string ready_at = "2026-01-01T00:01:00Z") {
  return json{
      {"metadata", {{"name", name}, {"namespace", "default"}, {"creationTimestamp", created}}},
      {"spec", {{"nodeName", node}, {"containers", json::array({{{"name", "main"}}})}}},
      {"status",
       {{"phase", phase},
        {"conditions", json::array({{{"type", "Ready"},
                                     {"status", ready ? "True" : "False"},
                                     {"lastTransitionTime", ready_at}}})},
        {"containerStatuses", json::array({{{"restartCount", restarts}}})}}}};
}

TEST_CASE("TYPE/NAME forms") {
  CHECK(ParseResourceRef("web")->kind == ResourceKind::kPod);
  CHECK(ParseResourceRef("web")->name == "web");
  CHECK(ParseResourceRef("pod/web")->kind == ResourceKind::kPod);
  CHECK(ParseResourceRef("po/web")->kind == ResourceKind::kPod);
  CHECK(ParseResourceRef("deploy/api")->kind == ResourceKind::kDeployment);
  CHECK(ParseResourceRef("deployments.apps/api")->kind == ResourceKind::kDeployment);
  CHECK(ParseResourceRef("rs/x")->kind == ResourceKind::kReplicaSet);
  CHECK(ParseResourceRef("sts/x")->kind == ResourceKind::kStatefulSet);
  CHECK(ParseResourceRef("ds/x")->kind == ResourceKind::kDaemonSet);
  CHECK(ParseResourceRef("job/x")->kind == ResourceKind::kJob);
  CHECK(ParseResourceRef("svc/db")->kind == ResourceKind::kService);
  CHECK(ParseResourceRef("Deploy/api")->kind == ResourceKind::kDeployment);
  auto bad = ParseResourceRef("frob/x");
  REQUIRE(!bad);
  CHECK(bad.error().message == "the server doesn't have a resource type \"frob\"");
  CHECK(!ParseResourceRef("pod/"));
  CHECK(!ParseResourceRef("pod/a/b"));
  CHECK(!ParseResourceRef(""));
  CHECK(CollectionPath(ResourceKind::kJob, "ns") == "/apis/batch/v1/namespaces/ns/jobs");
}

TEST_CASE("selectors of controllers and services") {
  json deploy = {{"metadata", {{"name", "api"}}},
                 {"spec",
                  {{"selector",
                    {{"matchLabels", {{"app", "api"}, {"tier", "be"}}},
                     {"matchExpressions",
                      json::array({{{"key", "env"}, {"operator", "In"}, {"values", {"a", "b"}}},
                                   {{"key", "x"}, {"operator", "Exists"}}})}}}}}};
  CHECK(*SelectorOf(deploy, ResourceKind::kDeployment) == "app=api,tier=be,env in (a,b),x");
  json svc = {{"metadata", {{"name", "db"}}}, {"spec", {{"selector", {{"app", "db"}}}}}};
  CHECK(*SelectorOf(svc, ResourceKind::kService) == "app=db");
  json headless = {{"metadata", {{"name", "ext"}}}, {"spec", json::object()}};
  auto e = SelectorOf(headless, ResourceKind::kService);
  REQUIRE(!e);
  CHECK(e.error().message == "invalid service 'ext': Service is defined without a selector");
  CHECK(!SelectorOf(json::object(), ResourceKind::kJob));
}

TEST_CASE("the most active pod, as kubectl's reversed ActivePods picks it") {
  std::vector<json> pods = {Pod("pending", "Pending", false), Pod("unready", "Running", false),
                            Pod("ready", "Running", true)};
  CHECK((*MostActivePod(pods))["metadata"]["name"] == "ready");
  // Ready longer wins; fewer restarts win; older wins; assigned beats unassigned.
  pods = {Pod("recent", "Running", true, "n", 0, "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"),
          Pod("longer", "Running", true, "n", 0, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z")};
  CHECK((*MostActivePod(pods))["metadata"]["name"] == "longer");
  pods = {Pod("flappy", "Running", false, "n", 5), Pod("steady", "Running", false, "n", 0)};
  CHECK((*MostActivePod(pods))["metadata"]["name"] == "steady");
  pods = {Pod("new", "Running", false, "n", 0, "2026-02-01T00:00:00Z"),
          Pod("old", "Running", false, "n", 0, "2026-01-01T00:00:00Z")};
  CHECK((*MostActivePod(pods))["metadata"]["name"] == "old");
  pods = {Pod("unassigned", "Running", true, ""), Pod("assigned", "Pending", false)};
  CHECK((*MostActivePod(pods))["metadata"]["name"] == "assigned");
  CHECK(MostActivePod({}) == nullptr);
}

TEST_CASE("default container rules and kubectl's notice") {
  json pod = {{"metadata", {{"name", "web"}, {"namespace", "default"}}},
              {"spec",
               {{"containers", json::array({{{"name", "a"}}, {{"name", "b"}}})},
                {"initContainers", json::array({{{"name", "init"}}})}}}};
  auto c = ChooseContainer(pod, "", false);
  CHECK(c->name == "a");
  CHECK(c->notice == "Defaulted container \"a\" out of: a, b, init (init)");
  CHECK(ChooseContainer(pod, "", true)->notice.empty());
  CHECK(ChooseContainer(pod, "b", false)->name == "b");
  CHECK(ChooseContainer(pod, "init", false)->name == "init");
  auto missing = ChooseContainer(pod, "zzz", false);
  REQUIRE(!missing);
  CHECK(missing.error().message == "container zzz not found in pod web");
  pod["metadata"]["annotations"] = {{"kubectl.kubernetes.io/default-container", "b"}};
  c = ChooseContainer(pod, "", false);
  CHECK(c->name == "b");
  CHECK(c->notice.empty());
  pod["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"] = "gone";
  CHECK(ChooseContainer(pod, "", false)->name == "a");
  json single = {{"metadata", {{"name", "one"}}},
                 {"spec", {{"containers", json::array({{{"name", "only"}}})}}}};
  CHECK(ChooseContainer(single, "", false)->notice.empty());
  CHECK(!ChooseContainer(json{{"metadata", {{"name", "x"}}}}, "", false));
}

TEST_CASE("completed pods are refused with kubectl's message") {
  json pod = Pod("done", "Succeeded", false);
  auto s = CheckPodNotCompleted(pod, "exec");
  REQUIRE(!s);
  CHECK(s.error().message ==
        "cannot exec into a container in a completed pod; current phase is Succeeded");
  CHECK(CheckPodNotCompleted(Pod("f", "Failed", false), "attach").error().message ==
        "cannot attach a container in a completed pod; current phase is Failed");
  CHECK(CheckPodNotCompleted(Pod("r", "Running", true), "exec"));
}

TEST_CASE("port-forward port resolution: named pod ports and service ports") {
  json pod = {
      {"metadata", {{"name", "db-0"}}},
      {"spec",
       {{"containers",
         json::array({{{"name", "db"},
                       {"ports", json::array({{{"name", "pg"}, {"containerPort", 5432}}})}}})}}}};
  CHECK(*ResolvePodPort(pod, "8080") == 8080);
  CHECK(*ResolvePodPort(pod, "pg") == 5432);
  CHECK(ResolvePodPort(pod, "http").error().message ==
        "Pod 'db-0' does not have a named port 'http'");
  CHECK(!ResolvePodPort(pod, "70000"));
  json svc = {{"metadata", {{"name", "db"}}},
              {"spec",
               {{"ports", json::array({{{"name", "sql"}, {"port", 5432}, {"targetPort", "pg"}},
                                       {{"name", "web"}, {"port", 80}, {"targetPort", 8080}},
                                       {{"name", "same"}, {"port", 9000}}})}}}};
  CHECK(*ResolveServicePort(svc, pod, "5432") == 5432);
  CHECK(*ResolveServicePort(svc, pod, "sql") == 5432);
  CHECK(*ResolveServicePort(svc, pod, "80") == 8080);
  CHECK(*ResolveServicePort(svc, pod, "web") == 8080);
  CHECK(*ResolveServicePort(svc, pod, "9000") == 9000);
  CHECK(ResolveServicePort(svc, pod, "81").error().message ==
        "Service db does not have a service port 81");
  CHECK(ResolveServicePort(svc, pod, "nope").error().message ==
        "Service 'db' does not have a named port 'nope'");
}

}  // namespace
}  // namespace kproxy
