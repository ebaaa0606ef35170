// `kproxy get pods`: the RestConfig → output path against a real HTTPS peer, the CLI's
// argument handling, and (conformance suite) byte-for-byte comparison with real kubectl.
#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/command.h"
#include "cli/commands.h"
#include "core/base/exit_code.h"
#include "tests/support/https_server.h"
#include "tests/support/test_env.h"
#include "tests/support/test_pki.h"

namespace kproxy::cli {
namespace {

using nlohmann::json;

// A pod with the fields kubectl prints, and strings that stress YAML quoting.
json SamplePod(const std::string& name, const std::string& ns) {
  return json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {
      "name": ")" + name +
                     R"(", "namespace": ")" + ns + R"(",
      "uid": "7f1c2a9e-5b1d-4f8e-9a63-2b0c6d1e4f00",
      "resourceVersion": "12345",
      "creationTimestamp": "2024-05-01T10:00:00Z",
      "labels": {"app": "web", "app.kubernetes.io/version": "1.0", "enabled": "true"},
      "annotations": {
        "note": "a: b # not a comment",
        "multi": "line one\nline two\n",
        "quote": "it's <fine> & done",
        "empty": "",
        "dash": "- item",
        "star": "*ref"
      }
    },
    "spec": {
      "containers": [{"name": "web", "image": "nginx:1.25", "args": ["-g", "daemon off;"],
                      "ports": [{"containerPort": 80, "protocol": "TCP"}],
                      "resources": {}}],
      "nodeName": "node-1", "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
      "enableServiceLinks": true
    },
    "status": {
      "phase": "Running", "podIP": "10.244.0.5", "podIPs": [{"ip": "10.244.0.5"}],
      "conditions": [{"type": "Ready", "status": "True"}],
      "containerStatuses": [{"name": "web", "ready": true, "restartCount": 0,
                             "state": {"running": {"startedAt": "2024-05-01T10:00:05Z"}}}]
    }
  })");
}

// Strings and shapes where YAML emitters differ: quoting, block scalars, long-line folding.
json EdgePod() {
  json pod = SamplePod("edge-0", "edge");
  json a = json::object();
  const char* values[] = {
      "null",
      "~",
      "0755",
      "0x1F",
      "1e3",
      "-12",
      "+1",
      ".5",
      "yes",
      "No",
      "on",
      "Y",
      "n",
      ":",
      "-",
      "?",
      "a:b",
      "a :b",
      "#x",
      "x#y",
      "x #y",
      " lead",
      "trail ",
      "tab\there",
      "caf\xc3\xa9",
      "ends:",
      "@at",
      "%pct",
      "`tick",
      "{brace",
      "[sq",
      "\"dq",
      "'sq",
      "!bang",
      "&amp",
      "|pipe",
      ">gt",
      ",comma",
      "---",
      "...",
      "2024-01-02",
      "12:30",
      "1_000",
      "no trailing\nnewline",
      "two\n\n",
      "\nleading newline",
      "  indented\nblock\n",
      "cr\r\nlf",
      "bell\x07",
      "\xc2\xa0nbsp",
      ("a very long annotation value with many words that goes well past the "
       "eighty column limit of the emitter, to see whether it folds or not"),
      "averylongtokenwithoutanyspacesaverylongtokenwithoutanyspacesaverylongtokenwithoutanyspaces"};
  int i = 0;
  for (const char* v : values) a["k" + std::to_string(i++)] = std::string(v);
  pod["metadata"]["annotations"] = a;
  pod["spec"]["nested"] =
      json::parse(R"([[1, 2], [], [[]], {}, [{}], null, 1.5, -0.25, 1e21, true])");
  const std::string words =
      "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt "
      "ut labore et dolore magna aliqua ut enim ad minim veniam quis nostrud exercitation";
  pod["spec"]["longSingle"] = "key: " + words;
  pod["spec"]["longDouble"] = "tab\t" + words + "  two  spaces  " + words;
  pod["spec"]["longList"] = json::array({words, "- " + words, words + "\n" + words});
  pod["spec"]["emptyString"] = "";
  pod["spec"]["nullField"] = nullptr;
  return pod;
}

json PodList(const json& items) {
  return json{{"apiVersion", "v1"},
              {"kind", "PodList"},
              {"metadata", {{"resourceVersion", "555"}}},
              {"items", items}};
}

std::string NotFoundBody(const std::string& name) {
  return json{{"kind", "Status"},
              {"apiVersion", "v1"},
              {"metadata", json::object()},
              {"status", "Failure"},
              {"message", "pods \"" + name + "\" not found"},
              {"reason", "NotFound"},
              {"details", {{"name", name}, {"kind", "pods"}}},
              {"code", 404}}
      .dump();
}

// A fake API server holding pods in namespaces "default" and "team-b"; "empty" has none.
// Also answers the discovery kubectl does before a get.
test::ScriptedResponse FakeApi(const test::RecordedRequest& req) {
  std::string path = req.target.substr(0, req.target.find('?'));
  json pods_default = json::array({SamplePod("web-1", "default"), SamplePod("web-2", "default")});
  json pods_b = json::array({SamplePod("db-0", "team-b")});
  auto ok = [](const json& j) { return test::ScriptedResponse{200, {}, j.dump()}; };
  if (path == "/api") {
    return ok({{"kind", "APIVersions"},
               {"versions", {"v1"}},
               {"serverAddressByClientCIDRs",
                {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", "127.0.0.1:443"}}}}});
  }
  if (path == "/apis")
    return ok({{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", json::array()}});
  if (path == "/api/v1") {
    return ok({{"kind", "APIResourceList"},
               {"groupVersion", "v1"},
               {"resources",
                {{{"name", "pods"},
                  {"singularName", "pod"},
                  {"namespaced", true},
                  {"kind", "Pod"},
                  {"verbs", {"get", "list"}},
                  {"shortNames", {"po"}}}}}});
  }
  if (path == "/api/v1/namespaces/default/pods") return ok(PodList(pods_default));
  if (path == "/api/v1/namespaces/team-b/pods") return ok(PodList(pods_b));
  if (path == "/api/v1/namespaces/empty/pods") return ok(PodList(json::array()));
  if (path == "/api/v1/namespaces/edge/pods") return ok(PodList(json::array({EdgePod()})));
  if (path == "/api/v1/pods") {
    json all = pods_default;
    all.push_back(pods_b[0]);
    return ok(PodList(all));
  }
  const std::string prefix = "/api/v1/namespaces/";
  if (path.rfind(prefix, 0) == 0) {
    std::string rest = path.substr(prefix.size());
    std::string ns = rest.substr(0, rest.find('/'));
    std::string name = rest.substr(rest.rfind('/') + 1);
    json all = pods_default;
    all.push_back(pods_b[0]);
    for (const auto& p : all) {
      if (p["metadata"]["name"] == name && p["metadata"]["namespace"] == ns) return ok(p);
    }
    return {404, {}, NotFoundBody(name)};
  }
  return {404, {}, NotFoundBody("unknown")};
}

struct Out {
  int status;
  std::string out, err;
};

Out RunGet(const test::HttpsServer& server, GetPodsRequest req, const std::string& ns = "default") {
  RestConfig c;
  c.server = server.url();
  c.ca_data = test::TestPki::Get().ca.cert;
  c.bearer_token = "get-test-token";
  c.namespace_ = ns;
  auto http = MakeCurlHttpClient(c);
  std::istringstream in;
  std::ostringstream out, err;
  CommandIO io{in, out, err};
  int status = RunGetPods(c, req, *http, io);
  return {status, out.str(), err.str()};
}

GetPodsRequest Req(std::string name = "", std::string output = "", bool all = false) {
  GetPodsRequest r;
  r.name = std::move(name);
  r.output = std::move(output);
  r.all_namespaces = all;
  return r;
}

TEST_CASE("get pods: table, -A, wide and name output") {
  test::HttpsServer server({}, FakeApi);
  auto t = RunGet(server, Req());
  CHECK(t.status == 0);
  CHECK(t.err.empty());
  // Rows: header + two pods; the AGE column depends on today's date, so check the prefix.
  CHECK(t.out.rfind("NAME    READY   STATUS    RESTARTS   AGE\n"
                    "web-1   1/1     Running   0          ",
                    0) == 0);
  auto a = RunGet(server, Req("", "", true));
  CHECK(a.status == 0);
  CHECK(a.out.rfind("NAMESPACE   NAME    READY   STATUS    RESTARTS   AGE\n"
                    "default     web-1   1/1     Running   0          ",
                    0) == 0);
  CHECK(a.out.find("\nteam-b      db-0    1/1     Running   0          ") != std::string::npos);
  auto w = RunGet(server, Req("web-2", "wide"));
  CHECK(w.status == 0);
  CHECK(w.out.find("NAME    READY   STATUS    RESTARTS   AGE") == 0);
  CHECK(w.out.find("   IP           NODE     NOMINATED NODE   READINESS GATES\n") !=
        std::string::npos);
  CHECK(w.out.find("   10.244.0.5   node-1   <none>           <none>\n") != std::string::npos);
  auto n = RunGet(server, Req("", "name"), "team-b");
  CHECK(n.out == "pod/db-0\n");
  auto reqs = server.requests();
  REQUIRE_FALSE(reqs.empty());
  CHECK(reqs[0].target == "/api/v1/namespaces/default/pods?limit=500");
  CHECK(reqs[0].Header("Authorization") == "Bearer get-test-token");
}

TEST_CASE("get pods: empty lists and NotFound say what kubectl says") {
  test::HttpsServer server({}, FakeApi);
  auto e = RunGet(server, Req(), "empty");
  CHECK(e.status == 0);
  CHECK(e.out.empty());
  CHECK(e.err == "No resources found in empty namespace.\n");
  auto nf = RunGet(server, Req("nope"));
  CHECK(nf.status == exit_status::kNotFound);
  CHECK(nf.out.empty());
  CHECK(nf.err == "Error from server (NotFound): pods \"nope\" not found\n");
}

TEST_CASE("get pods: -o json prints one object for a name and a List otherwise") {
  test::HttpsServer server({}, FakeApi);
  auto one = RunGet(server, Req("web-1", "json"));
  REQUIRE(one.status == 0);
  json j = json::parse(one.out);
  CHECK(j["kind"] == "Pod");
  CHECK(one.out.find("\n    \"apiVersion\": \"v1\",\n") != std::string::npos);
  CHECK(one.out.find("it's \\u003cfine\\u003e \\u0026 done") != std::string::npos);
  auto many = RunGet(server, Req("", "json"));
  REQUIRE(many.status == 0);
  json l = json::parse(many.out);
  CHECK(l["kind"] == "List");
  CHECK(l["metadata"]["resourceVersion"] == "");
  CHECK(l["items"].size() == 2);
  CHECK(l["items"][0]["kind"] == "Pod");
  auto y = RunGet(server, Req("", "yaml"), "empty");
  CHECK(y.out == "apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: \"\"\n");
  CHECK(y.err.empty());
}

TEST_CASE("get pods: transport errors are one line with kubectl's exit mapping") {
  RestConfig c;
  {
    test::HttpsServer gone({}, FakeApi);
    c.server = gone.url();
  }
  c.ca_data = test::TestPki::Get().ca.cert;
  auto http = MakeCurlHttpClient(c);
  std::istringstream in;
  std::ostringstream out, err;
  CommandIO io{in, out, err};
  int status = RunGetPods(c, Req(), *http, io);
  CHECK(status == exit_status::kUnavailable);
  std::string text = err.str();
  CHECK(text.rfind("Unable to connect to the server " + c.server, 0) == 0);
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
}

Out Cli(std::vector<const char*> args) {
  args.insert(args.begin(), "kproxy");
  std::istringstream in;
  std::ostringstream out, err;
  int status = RunCli(static_cast<int>(args.size()), args.data(), CommandIO{in, out, err});
  return {status, out.str(), err.str()};
}

TEST_CASE("get command: argument errors are usage errors before any connection") {
  auto none = Cli({"get"});
  CHECK(none.status == exit_status::kUsage);
  CHECK(none.err.find("you must specify the type of resource") != std::string::npos);
  auto svc = Cli({"get", "services"});
  CHECK(svc.status == exit_status::kUsage);
  CHECK(svc.err.find("\"services\"") != std::string::npos);
  auto both = Cli({"get", "pod/x", "y"});
  CHECK(both.status == exit_status::kUsage);
  auto name_all = Cli({"get", "po", "x", "-A"});
  CHECK(name_all.status == exit_status::kUsage);
  CHECK(name_all.err == "error: a resource cannot be retrieved by name across all namespaces\n");
  auto sel = Cli({"get", "pods", "x", "-l", "app=web"});
  CHECK(sel.status == exit_status::kUsage);
  CHECK(sel.err == "error: name cannot be provided when a selector is specified\n");
  auto fmt = Cli({"get", "pods", "-o", "xml"});
  CHECK(fmt.status == exit_status::kUsage);
  CHECK(fmt.err.find("\"xml\"") != std::string::npos);
}

std::string Base64(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// Runs the real kubectl (bounded) against `server`; stdout and stderr kept apart.
Out RunKubectl(const test::HttpsServer& server, const std::string& args) {
  test::TempDir dir;
  auto kubeconfig = dir.path() / "config";
  std::ofstream(kubeconfig) << "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
                            << "clusters:\n- name: t\n  cluster:\n    server: " << server.url()
                            << "\n    certificate-authority-data: "
                            << Base64(test::TestPki::Get().ca.cert) << "\n"
                            << "users:\n- name: t\n  user:\n    token: get-test-token\n"
                            << "contexts:\n- name: t\n  context:\n    cluster: t\n    user: t\n";
  auto err_path = dir.path() / "stderr";
  std::string cmd = "HOME=" + dir.path().string() + " timeout 60 kubectl --kubeconfig " +
                    kubeconfig.string() + " --cache-dir " + (dir.path() / "cache").string() + " " +
                    args + " 2>" + err_path.string();
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int rc = pclose(p);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out, test::ReadFileOrDie(err_path)};
}

}  // namespace

// Same server, same pods: kproxy's output must equal kubectl's byte for byte.
TEST_SUITE("conformance-get") {
  TEST_CASE("get pods -o json/yaml/name and errors match real kubectl") {
    test::HttpsServer server({}, FakeApi);
    struct Case {
      const char* kubectl_args;
      GetPodsRequest request;
      const char* ns;
    };
    std::vector<Case> cases = {
        {"get pod web-1 -o json", Req("web-1", "json"), "default"},
        {"get pod web-1 -o yaml", Req("web-1", "yaml"), "default"},
        {"get pods -o json", Req("", "json"), "default"},
        {"get pods -o yaml", Req("", "yaml"), "default"},
        {"get pods -A -o yaml", Req("", "yaml", true), "default"},
        {"get pods -n team-b -o name", Req("", "name"), "team-b"},
        {"get pods -n empty", Req(), "empty"},
        {"get pods -n empty -o yaml", Req("", "yaml"), "empty"},
        {"get pod nope", Req("nope"), "default"},
        {"get pods -n edge -o yaml", Req("", "yaml"), "edge"},
        {"get pods -n edge -o json", Req("", "json"), "edge"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.kubectl_args);
      Out want = RunKubectl(server, c.kubectl_args);
      Out got = RunGet(server, c.request, c.ns);
      CHECK(got.out == want.out);
      CHECK(got.err == want.err);
      CHECK((got.status == 0) == (want.status == 0));
    }
  }
}

}  // namespace kproxy::cli
