// kproxy-sim's API server, started as a child process: discovery, reads with selectors and
// Tables, Status errors, RBAC, impersonation, reviews, logs, the streaming gate.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "tests/support/sim_process.h"

namespace kproxy::test {

namespace {

using nlohmann::json;

struct Api {
  std::unique_ptr<SimProcess> sim;
  std::string ca;
  std::string url;

  explicit Api(SimOptions opts = {}) {
    opts.proxy = false;
    std::string err;
    sim = SimProcess::Start(opts, &err);
    REQUIRE_MESSAGE(sim, err);
    ca = sim->ca_pem();
    url = sim->api_url();
  }
  HttpReply Get(const std::string& path, const std::string& token = "alice-token",
                std::vector<std::string> headers = {}) {
    if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
    return HttpsRequest(ca, "GET", url + path, headers);
  }
  HttpReply Post(const std::string& path, const std::string& body, const std::string& token,
                 std::vector<std::string> headers = {}) {
    headers.push_back("Authorization: Bearer " + token);
    return HttpsRequest(ca, "POST", url + path, headers, body);
  }
};

json Body(const HttpReply& r) { return json::parse(r.body, nullptr, false); }

std::vector<std::string> Names(const json& list) {
  std::vector<std::string> out;
  for (const auto& item : list["items"]) out.push_back(item["metadata"]["name"]);
  return out;
}

}  // namespace

TEST_SUITE("e2e.sim") {
  TEST_CASE("sim api: discovery documents") {
    Api api;
    auto v = api.Get("/version");
    REQUIRE(v.status == 200);
    CHECK(v.Header("content-type") == "application/json");
    CHECK(Body(v)["gitVersion"] == "v1.33.1");
    CHECK(Body(v)["minor"] == "33");
    json apis = Body(api.Get("/api"));
    CHECK(apis["kind"] == "APIVersions");
    CHECK(apis["versions"] == json::array({"v1"}));
    json groups = Body(api.Get("/apis"));
    CHECK(groups["kind"] == "APIGroupList");
    std::vector<std::string> names;
    for (const auto& g : groups["groups"]) names.push_back(g["name"]);
    CHECK(names == std::vector<std::string>{"apps", "batch", "authentication.k8s.io",
                                            "authorization.k8s.io"});
    json core = Body(api.Get("/api/v1"));
    CHECK(core["groupVersion"] == "v1");
    std::set<std::string> resources;
    for (const auto& r : core["resources"]) resources.insert(r["name"]);
    for (const char* r : {"pods", "pods/exec", "pods/attach", "pods/portforward", "pods/log",
                          "services", "namespaces"}) {
      CHECK(resources.count(r) == 1);
    }
    for (const char* gv : {"/apis/apps/v1", "/apis/batch/v1", "/apis/authorization.k8s.io/v1",
                           "/apis/authentication.k8s.io/v1", "/apis/apps"}) {
      CAPTURE(gv);
      CHECK(api.Get(gv).status == 200);
    }
    auto missing = api.Get("/apis/nope.example.com/v1");
    CHECK(missing.status == 404);
    CHECK(api.Get("/healthz", "").body == "ok");
  }

  TEST_CASE("sim api: aggregated discovery for clients that ask for it") {
    Api api;
    const std::string v2 =
        "Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/"
        "json";
    auto core = api.Get("/api", "alice-token", {v2});
    CHECK(core.Header("content-type") ==
          "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    json c = Body(core);
    CHECK(c["kind"] == "APIGroupDiscoveryList");
    CHECK(c["apiVersion"] == "apidiscovery.k8s.io/v2");
    const json& pods = c["items"][0]["versions"][0]["resources"][0];
    CHECK(pods["resource"] == "pods");
    CHECK(pods["scope"] == "Namespaced");
    CHECK(pods["responseKind"] == json({{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}));
    std::vector<std::string> subs;
    for (const auto& s : pods["subresources"]) subs.push_back(s["subresource"]);
    CHECK(subs == std::vector<std::string>{"attach", "exec", "log", "portforward", "status"});
    // kubectl 1.27-1.29 ask for v2beta1 only.
    auto beta = api.Get(
        "/apis", "alice-token",
        {"Accept: application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
         "application/json"});
    CHECK(Body(beta)["apiVersion"] == "apidiscovery.k8s.io/v2beta1");
    CHECK(Body(beta)["items"][0]["metadata"]["name"] == "apps");
    // Anything else gets the legacy documents.
    CHECK(Body(api.Get("/apis", "alice-token", {"Accept: application/json"}))["kind"] ==
          "APIGroupList");
    CHECK(Body(api.Get(
              "/api", "alice-token",
              {"Accept: application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList"}))
              ["kind"] == "APIVersions");
  }

  TEST_CASE("sim api: 401 without or with a wrong token, as Status JSON") {
    Api api;
    for (const std::string& token : {std::string(""), std::string("nope")}) {
      auto r = api.Get("/api/v1/namespaces/default/pods", token);
      CHECK(r.status == 401);
      json s = Body(r);
      CHECK(s["kind"] == "Status");
      CHECK(s["reason"] == "Unauthorized");
      CHECK(s["message"] == "Unauthorized");
      CHECK(s["code"] == 401);
    }
  }

  TEST_CASE("sim api: pod list, label and field selectors, all namespaces") {
    Api api;
    json all = Body(api.Get("/api/v1/namespaces/default/pods?limit=500"));
    CHECK(all["kind"] == "PodList");
    CHECK(all["apiVersion"] == "v1");
    CHECK(all["items"].size() == 6);
    CHECK_FALSE(all["items"][0].contains("kind"));
    CHECK(Names(Body(api.Get("/api/v1/namespaces/default/pods?labelSelector=app%3Dweb"))) ==
          std::vector<std::string>{"web-7d9f5c6b8-abcde", "web-7d9f5c6b8-fghij"});
    CHECK(Names(Body(api.Get("/api/v1/namespaces/default/pods?labelSelector=app+in+(db,multi)"))) ==
          std::vector<std::string>{"db-0", "multi"});
    CHECK(Names(Body(
              api.Get("/api/v1/namespaces/default/pods?fieldSelector=status.phase%3DPending"))) ==
          std::vector<std::string>{"pending-pod"});
    CHECK(Names(Body(api.Get("/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Ddb-0"
                             "&labelSelector=tier"))) == std::vector<std::string>{"db-0"});
    json every = Body(api.Get("/api/v1/pods"));
    CHECK(every["items"].size() == 8);
    auto bad = api.Get("/api/v1/namespaces/default/pods?labelSelector=app+in+web");
    CHECK(bad.status == 400);
    CHECK(Body(bad)["reason"] == "BadRequest");
    auto field = api.Get("/api/v1/namespaces/default/pods?fieldSelector=spec.nope%3Dx");
    CHECK(field.status == 400);
    CHECK(Body(field)["message"] == "field label not supported: spec.nope");
  }

  TEST_CASE("sim api: pod get, NotFound, Table for kubectl get") {
    Api api;
    json pod = Body(api.Get("/api/v1/namespaces/default/pods/multi"));
    CHECK(pod["kind"] == "Pod");
    CHECK(pod["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"] == "app");
    CHECK(pod["spec"]["containers"][1]["tty"] == true);
    CHECK(pod["spec"]["containers"][1]["stdin"] == true);
    json web = Body(api.Get("/api/v1/namespaces/default/pods/web-7d9f5c6b8-abcde"));
    CHECK(web["spec"]["containers"][0]["ports"][0] ==
          json({{"name", "http"}, {"containerPort", 8080}, {"protocol", "TCP"}}));
    CHECK(web["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet");
    CHECK(web["status"]["phase"] == "Running");

    auto nf = api.Get("/api/v1/namespaces/default/pods/ghost");
    CHECK(nf.status == 404);
    CHECK(Body(nf) == json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},
      "status":"Failure","message":"pods \"ghost\" not found","reason":"NotFound",
      "details":{"name":"ghost","kind":"pods"},"code":404})"));

    const std::string table_accept =
        "Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
        "g=meta.k8s.io,application/json";
    json t =
        Body(api.Get("/api/v1/namespaces/default/pods?limit=500", "alice-token", {table_accept}));
    CHECK(t["kind"] == "Table");
    CHECK(t["apiVersion"] == "meta.k8s.io/v1");
    std::vector<std::string> cols;
    for (const auto& c : t["columnDefinitions"]) cols.push_back(c["name"]);
    CHECK(cols == std::vector<std::string>{"Name", "Ready", "Status", "Restarts", "Age", "IP",
                                           "Node", "Nominated Node", "Readiness Gates"});
    CHECK(t["columnDefinitions"][5]["priority"] == 1);
    CHECK(t["rows"].size() == 6);
    CHECK(t["rows"][3]["cells"][0] == "multi");
    CHECK(t["rows"][3]["cells"][1] == "2/2");
    CHECK(t["rows"][3]["cells"][3] == "2");
    CHECK(t["rows"][4]["cells"][2] == "Completed");
    CHECK(t["rows"][0]["object"]["kind"] == "PartialObjectMetadata");
    json full = Body(api.Get("/api/v1/namespaces/default/pods/db-0?includeObject=Object",
                             "alice-token", {table_accept}));
    CHECK(full["rows"][0]["object"]["kind"] == "Pod");
  }

  TEST_CASE("sim api: workloads, services, namespaces") {
    Api api;
    CHECK(Body(api.Get("/apis/apps/v1/namespaces/default/deployments/web"))["spec"]["selector"] ==
          json({{"matchLabels", {{"app", "web"}}}}));
    CHECK(Names(Body(api.Get("/apis/apps/v1/namespaces/default/replicasets"))) ==
          std::vector<std::string>{"web-7d9f5c6b8"});
    CHECK(Names(Body(api.Get("/apis/apps/v1/statefulsets"))) == std::vector<std::string>{"db"});
    CHECK(Names(Body(api.Get("/apis/apps/v1/namespaces/kube-system/daemonsets"))) ==
          std::vector<std::string>{"node-agent"});
    CHECK(Body(api.Get("/apis/batch/v1/namespaces/default/jobs/migrate"))["status"]["succeeded"] ==
          1);
    json svc = Body(api.Get("/api/v1/namespaces/default/services/web"));
    CHECK(svc["spec"]["ports"][0]["targetPort"] == "http");
    CHECK(Body(api.Get("/api/v1/namespaces/default/services/db"))["spec"]["clusterIP"] == "None");
    CHECK(Body(api.Get(
              "/api/v1/namespaces/default/services/db"))["spec"]["ports"][0]["targetPort"] == 5432);
    CHECK(Names(Body(api.Get("/api/v1/namespaces"))) ==
          std::vector<std::string>{"default", "kube-system", "prod"});
    auto nf = api.Get("/apis/apps/v1/namespaces/default/deployments/nope");
    CHECK(Body(nf)["message"] == "deployments.apps \"nope\" not found");
    CHECK(Body(nf)["details"]["group"] == "apps");
  }

  TEST_CASE("sim api: RBAC denials with the apiserver's wording") {
    Api api;
    auto r = api.Get("/api/v1/namespaces/prod/pods/api-5f6d7c8b9-kl3mn", "bob-token");
    CHECK(r.status == 403);
    json s = Body(r);
    CHECK(s["metadata"] == json::object());
    CHECK(s["reason"] == "Forbidden");
    CHECK(s["message"] ==
          "pods \"api-5f6d7c8b9-kl3mn\" is forbidden: User \"bob\" cannot get resource \"pods\" in "
          "API group \"\" in the namespace \"prod\"");
    CHECK(s["details"] == json({{"name", "api-5f6d7c8b9-kl3mn"}, {"kind", "pods"}}));
    CHECK(Body(api.Get("/api/v1/pods", "bob-token"))["message"] ==
          "pods is forbidden: User \"bob\" cannot list resource \"pods\" in API group \"\" at the "
          "cluster scope");
    CHECK(Body(api.Get("/apis/apps/v1/namespaces/default/deployments", "bob-token"))["message"] ==
          "deployments.apps is forbidden: User \"bob\" cannot list resource \"deployments\" in API "
          "group \"apps\" in the namespace \"default\"");
    CHECK(api.Get("/api/v1/namespaces/default/pods", "bob-token").status == 200);
  }

  TEST_CASE("sim api: impersonation honoured only with impersonate rights") {
    Api api;
    auto as_bob = api.Get("/api/v1/namespaces/prod/pods", "access-proxy-sa-token",
                          {"Impersonate-User: bob", "Impersonate-Group: viewers"});
    CHECK(as_bob.status == 403);
    CHECK(Body(as_bob)["message"].get<std::string>().find("User \"bob\" cannot list") !=
          std::string::npos);
    CHECK(api.Get("/api/v1/namespaces/default/pods", "access-proxy-sa-token",
                  {"Impersonate-User: bob"})
              .status == 200);
    auto refused =
        api.Get("/api/v1/namespaces/default/pods", "dave-token", {"Impersonate-User: alice"});
    CHECK(refused.status == 403);
    CHECK(
        Body(refused)["message"] ==
        "users \"alice\" is forbidden: User \"dave\" cannot impersonate resource \"users\" in API "
        "group \"\" at the cluster scope");
    auto group = api.Get("/api/v1/namespaces/default/pods", "bob-token",
                         {"Impersonate-User: bob", "Impersonate-Group: developers"});
    CHECK(group.status == 403);
    CHECK(Body(group)["message"].get<std::string>().find("cannot impersonate resource \"users\"") !=
          std::string::npos);
  }

  TEST_CASE("sim api: access reviews in JSON and kubectl's protobuf") {
    Api api;
    auto ssar =
        api.Post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                 R"({"kind":"SelfSubjectAccessReview","apiVersion":"authorization.k8s.io/v1",
                            "spec":{"resourceAttributes":{"namespace":"default","verb":"create",
                            "resource":"pods","subresource":"exec"}}})",
                 "carol-token", {"Content-Type: application/json"});
    CHECK(ssar.status == 201);
    CHECK(Body(ssar)["status"]["allowed"] == true);
    auto denied = api.Post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                           R"({"spec":{"resourceAttributes":{"namespace":"default","verb":"get",
                              "resource":"pods","subresource":"exec"}}})",
                           "carol-token", {"Content-Type: application/json"});
    CHECK(Body(denied)["status"]["allowed"] == false);
    std::string pb =
        ReadFileOrDie(SourceDir() / "tests/data/sim/ssar-create-pods-exec-prod.kubectl-1.33.pb");
    auto proto = api.Post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", pb, "bob-token",
                          {"Content-Type: application/vnd.kubernetes.protobuf"});
    CHECK(proto.status == 201);
    CHECK(Body(proto)["status"]["allowed"] == false);
    CHECK(Body(proto)["spec"]["resourceAttributes"]["namespace"] == "prod");
    auto ssr = api.Post("/apis/authentication.k8s.io/v1/selfsubjectreviews",
                        ReadFileOrDie(SourceDir() / "tests/data/sim/ssr.kubectl-1.33.pb"),
                        "bob-token", {"Content-Type: application/vnd.kubernetes.protobuf"});
    CHECK(ssr.status == 201);
    CHECK(Body(ssr)["status"]["userInfo"]["username"] == "bob");
    CHECK(Body(ssr)["status"]["userInfo"]["groups"] ==
          json::array({"viewers", "system:authenticated"}));
    auto garbage = api.Post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "k8s\x01zz",
                            "bob-token", {"Content-Type: application/vnd.kubernetes.protobuf"});
    CHECK(garbage.status == 400);
  }

  TEST_CASE("sim api: pods/log with tailLines, container checks and follow") {
    Api api;
    const std::string base = "/api/v1/namespaces/default/pods/";
    CHECK(api.Get(base + "web-7d9f5c6b8-abcde/log").body ==
          "listening on :8080\nGET / 200\nGET /healthz 200\n");
    CHECK(api.Get(base + "web-7d9f5c6b8-abcde/log?tailLines=2").body ==
          "GET / 200\nGET /healthz 200\n");
    CHECK(api.Get(base + "web-7d9f5c6b8-abcde/log?tailLines=0").body.empty());
    auto multi = api.Get(base + "multi/log");
    CHECK(multi.status == 400);
    CHECK(Body(multi)["message"] ==
          "a container name must be specified for pod multi, choose one of: [sidecar app]");
    CHECK(api.Get(base + "multi/log?container=app").status == 200);
    CHECK(api.Get(base + "multi/log?container=nope").status == 400);
    CHECK(api.Get(base + "web-7d9f5c6b8-abcde/log", "bob-token").status == 200);
    CHECK(api.Get(base + "web-7d9f5c6b8-abcde/log", "carol-token").status == 403);
    // follow keeps the stream open after the text: the bounded request times out holding it.
    auto follow =
        HttpsRequest(api.ca, "GET", api.url + base + "web-7d9f5c6b8-abcde/log?follow=true",
                     {"Authorization: Bearer alice-token"}, "", 1500);
    CHECK(follow.status == 200);
    CHECK(follow.error.find("Timeout") != std::string::npos);
    CHECK(follow.body == "listening on :8080\nGET / 200\nGET /healthz 200\n");
  }

  TEST_CASE("sim api: streaming gate authorizes GET as get and POST as create") {
    Api api;
    const std::string exec =
        "/api/v1/namespaces/default/pods/web-7d9f5c6b8-abcde/exec?command=sh&stdout=true";
    std::vector<std::string> ws = {
        "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol: v5.channel.k8s.io"};
    std::vector<std::string> spdy = {"Connection: Upgrade", "Upgrade: SPDY/3.1",
                                     "X-Stream-Protocol-Version: v4.channel.k8s.io"};
    auto ws_denied = api.Get(exec, "carol-token", ws);
    CHECK(ws_denied.status == 403);
    CHECK(Body(ws_denied)["message"] ==
          "pods \"web-7d9f5c6b8-abcde\" is forbidden: User \"carol\" cannot get resource "
          "\"pods/exec\" in API group \"\" in the namespace \"default\"");
    // carol may create pods/exec: the SPDY POST passes authorization (and reaches the streaming
    // layer, which this build reports as unavailable).
    auto spdy_ok = api.Post(exec, "", "carol-token", spdy);
    CHECK(spdy_ok.status != 403);
    auto bob = api.Post(exec, "", "bob-token", spdy);
    CHECK(Body(bob)["message"].get<std::string>().find("cannot create resource \"pods/exec\"") !=
          std::string::npos);
    auto plain = api.Get(exec, "alice-token");
    CHECK(plain.status == 400);
    CHECK(Body(plain)["message"] == "Upgrade request required");
    CHECK(api.Get("/api/v1/namespaces/default/pods/ghost/exec", "alice-token", ws).status == 404);
    CHECK(
        HttpsRequest(api.ca, "PUT", api.url + exec, {"Authorization: Bearer alice-token"}).status ==
        405);
  }

  TEST_CASE("sim api: keep-alive serves pipelined requests on one connection") {
    Api api;
    std::string req =
        "GET /version HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alice-token\r\n\r\n";
    std::string last =
        "GET /api HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alice-token\r\n"
        "Connection: close\r\n\r\n";
    RawReply r = RawTls(api.sim->api_port(), api.ca, "http/1.1", req + req + last);
    REQUIRE(r.handshake_ok);
    CHECK(r.selected_alpn == "http/1.1");
    size_t count = 0;
    for (size_t pos = 0; (pos = r.received.find("HTTP/1.1 200 OK", pos)) != std::string::npos;
         ++pos)
      ++count;
    CHECK(count == 3);
    CHECK(r.received.find("APIVersions") != std::string::npos);
  }

  TEST_CASE("sim up/down: kubeconfig, ports file, clean stop") {
    SimOptions opts;
    opts.proxy = true;
    std::string err;
    auto sim = SimProcess::Start(opts, &err);
    REQUIRE_MESSAGE(sim, err);
    std::string kc = ReadFileOrDie(sim->kubeconfig());
    CHECK(kc.find("current-context: sim") != std::string::npos);
    CHECK(kc.find("name: \"proxy\"") != std::string::npos);
    CHECK(kc.find(sim->api_url()) != std::string::npos);
    CHECK(kc.find(sim->proxy_url()) != std::string::npos);
    CHECK(sim->info()["pid"] == sim->pid());
    CHECK(sim->info()["proxies"].size() == 3);
    auto down = RunCommand({SimBinary().string(), "down", "--dir", sim->dir().string()}, {}, 15000);
    CHECK(down.status == 0);
    CHECK(down.out.find("stopped") != std::string::npos);
    CHECK_FALSE(sim->Alive());
    CHECK(sim->Stop());  // exited with status 0
    CHECK_FALSE(std::filesystem::exists(sim->dir() / "ready"));
    CHECK(
        RunCommand({SimBinary().string(), "down", "--dir", sim->dir().string()}, {}, 5000).status ==
        1);
  }
}

}  // namespace kproxy::test
