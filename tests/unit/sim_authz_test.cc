// RBAC decisions and the apiserver's exact denial wording, on the default fixture.
#include <doctest/doctest.h>

#include "tests/sim/api/authz.h"
#include "tests/sim/faults.h"
#include "tests/sim/fixture.h"

namespace kproxy::sim {

namespace {
Fixture Default() {
  auto f = LoadFixture(DefaultFixturePath());
  REQUIRE(f.ok());
  return *f;
}
HttpRequest Req(const std::string& method, const std::string& token,
                std::vector<std::pair<std::string, std::string>> extra = {}) {
  HttpRequest r;
  r.method = method;
  r.headers = {{"authorization", "Bearer " + token}};
  for (auto& h : extra) r.headers.push_back(h);
  return r;
}
}  // namespace

TEST_CASE("forbidden messages use kube-apiserver's wording") {
  UserInfo bob{"bob", "", {"viewers", "system:authenticated"}};
  Attributes a;
  a.verb = "get";
  a.resource = "pods";
  a.namespace_ = "prod";
  a.name = "x";
  CHECK(ForbiddenReason(bob, a) ==
        "User \"bob\" cannot get resource \"pods\" in API group \"\" in the namespace \"prod\"");
  HttpResponse r = Forbidden(bob, a);
  CHECK(r.status == 403);
  CHECK(r.body.find("\"message\":\"pods \\\"x\\\" is forbidden: User \\\"bob\\\" cannot get") !=
        std::string::npos);
  CHECK(r.body.find("\"metadata\":{}") != std::string::npos);
  a.verb = "list";
  a.name.clear();
  a.namespace_.clear();
  CHECK(ForbiddenReason(bob, a) ==
        "User \"bob\" cannot list resource \"pods\" in API group \"\" at the cluster scope");
  Attributes dep;
  dep.verb = "get";
  dep.api_group = "apps";
  dep.resource = "deployments";
  dep.namespace_ = "default";
  dep.name = "web";
  CHECK(Forbidden(bob, dep).body.find("deployments.apps \\\"web\\\" is forbidden") !=
        std::string::npos);
}

TEST_CASE("RBAC: namespaced rules, subresources, cluster scope") {
  Fixture f = Default();
  UserInfo bob{"bob", "", {"viewers", "system:authenticated"}};
  Attributes a;
  a.verb = "list";
  a.resource = "pods";
  a.namespace_ = "default";
  CHECK(Authorize(f, bob, a));
  a.namespace_ = "prod";
  CHECK_FALSE(Authorize(f, bob, a));
  a.namespace_ = "";
  CHECK_FALSE(Authorize(f, bob, a));  // a namespaced grant is not cluster-wide
  a.namespace_ = "default";
  a.verb = "create";
  a.subresource = "exec";
  CHECK_FALSE(Authorize(f, bob, a));
  Attributes ns;
  ns.verb = "list";
  ns.resource = "namespaces";
  CHECK(Authorize(f, bob, ns));  // from the viewers group
  Attributes disco;
  disco.resource_request = false;
  disco.verb = "get";
  disco.path = "/apis/apps/v1";
  CHECK(Authorize(f, bob, disco));
  CHECK_FALSE(Authorize(f, UserInfo{"nobody", "", {}}, disco));
}

TEST_CASE("streaming authorization: WebSocket GET is verb get, SPDY POST is verb create") {
  Fixture f = Default();
  Faults none;
  UserInfo carol{"carol", "", {"system:authenticated"}};
  HttpRequest ws = Req("GET", "carol-token", {{"upgrade", "websocket"}});
  HttpRequest spdy = Req("POST", "carol-token", {{"upgrade", "SPDY/3.1"}});
  auto denied = AuthorizeStreaming(f, none, carol, ws, "default", "web", "exec");
  REQUIRE(denied.has_value());
  CHECK(denied->body.find("cannot get resource \\\"pods/exec\\\"") != std::string::npos);
  CHECK_FALSE(AuthorizeStreaming(f, none, carol, spdy, "default", "web", "exec").has_value());

  UserInfo alice{"alice", "", {"developers", "system:authenticated"}};
  CHECK_FALSE(AuthorizeStreaming(f, none, alice, ws, "default", "web", "portforward").has_value());
  Faults ws_get;
  ws_get.rbac_ws_get = true;
  CHECK(AuthorizeStreaming(f, ws_get, alice, ws, "default", "web", "exec").has_value());
  CHECK_FALSE(AuthorizeStreaming(f, ws_get, alice, spdy, "default", "web", "exec").has_value());
  Faults both;
  both.rbac_both = true;
  auto spdy_denied = AuthorizeStreaming(f, both, alice, spdy, "default", "web", "attach");
  REQUIRE(spdy_denied.has_value());
  CHECK(spdy_denied->body.find("cannot create resource \\\"pods/attach\\\"") != std::string::npos);
}

TEST_CASE("authentication and impersonation") {
  Fixture f = Default();
  Faults none;
  CHECK(Authenticate(f, none, Req("GET", "alice-token")).user->name == "alice");
  CHECK(Authenticate(f, none, Req("GET", "wrong")).error.status == 401);
  Faults expired;
  expired.expired = true;
  CHECK(Authenticate(f, expired, Req("GET", "alice-token")).error.status == 401);

  auto as = Authenticate(f, none,
                         Req("GET", "access-proxy-sa-token",
                             {{"impersonate-user", "bob"}, {"impersonate-group", "viewers"}}));
  REQUIRE(as.user.has_value());
  CHECK(as.user->name == "bob");
  CHECK(as.user->groups == std::vector<std::string>{"viewers", "system:authenticated"});

  auto refused = Authenticate(f, none, Req("GET", "dave-token", {{"impersonate-user", "bob"}}));
  CHECK_FALSE(refused.user.has_value());
  CHECK(refused.error.status == 403);
  CHECK(refused.error.body.find("users \\\"bob\\\" is forbidden: User \\\"dave\\\" cannot "
                                "impersonate resource \\\"users\\\" in API group \\\"\\\" at the "
                                "cluster scope") != std::string::npos);
}

TEST_CASE("upgrade faults") {
  Faults none;
  HttpRequest ws = Req("GET", "t", {{"upgrade", "websocket"}, {"connection", "Upgrade"}});
  CHECK_FALSE(CheckUpgrade(none, ws).has_value());
  HttpRequest plain = Req("GET", "t");
  REQUIRE(CheckUpgrade(none, plain).has_value());
  CHECK(CheckUpgrade(none, plain)->status == 400);
  CHECK(CheckUpgrade(none, plain)->body.find("Upgrade request required") != std::string::npos);
  Faults wsf;
  wsf.ws_forbidden = true;
  REQUIRE(CheckUpgrade(wsf, ws).has_value());
  CHECK(CheckUpgrade(wsf, ws)->status == 403);
  CHECK(CheckUpgrade(wsf, ws)->body.empty());
  Faults strip;
  strip.strip_upgrade = true;
  CHECK(CheckUpgrade(strip, ws)->status == 400);
}

TEST_CASE("fault flags parse") {
  auto f = ParseFaults({"no-v5", "drop-after=100", "delay=25", "h2-only"});
  REQUIRE(f.ok());
  CHECK(f->no_v5);
  CHECK(f->drop_after == 100);
  CHECK(f->delay_ms == 25);
  CHECK(f->h2_only);
  CHECK(FaultNames(*f) ==
        std::vector<std::string>{"no-v5", "h2-only", "drop-after=100", "delay=25"});
  for (const char* bad : {"nope", "drop-after", "drop-after=0", "drop-after=x", "delay=-1",
                          "delay=999999", "no-v5=1"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseFaults({bad}).ok());
  }
}

TEST_CASE("fixture: default loads; malformed fixtures are errors") {
  Fixture f = Default();
  const Pod* multi = f.FindPod("default", "multi");
  REQUIRE(multi);
  CHECK(multi->annotations.at("kubectl.kubernetes.io/default-container") == "app");
  CHECK(multi->containers.size() == 2);
  const Pod* web = f.FindPod("default", "web-7d9f5c6b8-abcde");
  REQUIRE(web);
  CHECK(f.LocalPortFor(*web, 8080) == 18080);
  CHECK_FALSE(f.LocalPortFor(*web, 9999).has_value());
  const Service* svc = f.FindService("default", "web");
  REQUIRE(svc);
  CHECK(svc->ports.front().target_port_name == "http");
  CHECK(f.FindService("default", "db")->cluster_ip == "None");
  CHECK(f.FindService("default", "db")->ports.front().target_port_number == 5432);
  for (const char* bad : {"[1, 2]", "users: [{token: x}]", "pods: [{name: p}]",
                          "pods: [{name: p, containers: [{name: c, ports: [{containerPort: 0}]}]}]",
                          "users: [{name: u, groups: {a: b}}]", "{{{"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseFixture(bad).ok());
  }
}

}  // namespace kproxy::sim
