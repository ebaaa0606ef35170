// Each fault mode of the simulator's HTTP/API layer, as a client meets it.
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "tests/support/sim_process.h"

namespace kproxy::test {

namespace {

using nlohmann::json;

std::unique_ptr<SimProcess> StartWith(std::vector<std::string> faults) {
  SimOptions opts;
  opts.proxy = false;
  opts.faults = std::move(faults);
  std::string err;
  auto sim = SimProcess::Start(opts, &err);
  REQUIRE_MESSAGE(sim, err);
  return sim;
}

const std::string kExec =
    "/api/v1/namespaces/default/pods/web-7d9f5c6b8-abcde/exec?command=sh&stdout=true";
const std::vector<std::string> kWs = {"Authorization: Bearer alice-token",
                                      "Connection: Upgrade",
                                      "Upgrade: websocket",
                                      "Sec-WebSocket-Version: 13",
                                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                                      "Sec-WebSocket-Protocol: v5.channel.k8s.io"};
const std::vector<std::string> kSpdy = {"Authorization: Bearer alice-token", "Connection: Upgrade",
                                        "Upgrade: SPDY/3.1",
                                        "X-Stream-Protocol-Version: v4.channel.k8s.io"};

HttpReply Ws(SimProcess& sim) {
  return HttpsRequest(sim.ca_pem(), "GET", sim.api_url() + kExec, kWs);
}
HttpReply Spdy(SimProcess& sim) {
  return HttpsRequest(sim.ca_pem(), "POST", sim.api_url() + kExec, kSpdy, "");
}
HttpReply Version(SimProcess& sim) {
  return HttpsRequest(sim.ca_pem(), "GET", sim.api_url() + "/version",
                      {"Authorization: Bearer alice-token"});
}

}  // namespace

TEST_SUITE("e2e.sim") {
  TEST_CASE("sim fault: none — both upgrade forms pass the gate") {
    auto sim = StartWith({});
    CHECK(Ws(*sim).status != 403);
    CHECK(Spdy(*sim).status != 403);
  }

  TEST_CASE("sim fault ws-forbidden: WebSocket upgrade gets an empty-body 403, SPDY passes") {
    auto sim = StartWith({"ws-forbidden"});
    auto ws = Ws(*sim);
    CHECK(ws.status == 403);
    CHECK(ws.body.empty());
    CHECK(Spdy(*sim).status != 403);
    CHECK(Version(*sim).status == 200);
  }

  TEST_CASE("sim fault strip-upgrade: 400 Upgrade request required") {
    auto sim = StartWith({"strip-upgrade"});
    for (const HttpReply& r : {Ws(*sim), Spdy(*sim)}) {
      CHECK(r.status == 400);
      CHECK(json::parse(r.body)["message"] == "Upgrade request required");
    }
  }

  TEST_CASE("sim fault rbac-ws-get: RBAC 403 only on the WebSocket GET") {
    auto sim = StartWith({"rbac-ws-get"});
    auto ws = Ws(*sim);
    CHECK(ws.status == 403);
    CHECK(json::parse(ws.body)["message"] ==
          "pods \"web-7d9f5c6b8-abcde\" is forbidden: User \"alice\" cannot get resource "
          "\"pods/exec\" in API group \"\" in the namespace \"default\"");
    CHECK(Spdy(*sim).status != 403);
  }

  TEST_CASE("sim fault rbac-both: RBAC 403 on GET and POST") {
    auto sim = StartWith({"rbac-both"});
    CHECK(Ws(*sim).status == 403);
    auto spdy = Spdy(*sim);
    CHECK(spdy.status == 403);
    CHECK(json::parse(spdy.body)["message"].get<std::string>().find(
              "cannot create resource \"pods/exec\"") != std::string::npos);
  }

  TEST_CASE("sim fault h2-only: ALPN selects h2; an http/1.1-only client is refused") {
    auto sim = StartWith({"h2-only"});
    RawReply h2 = RawTls(sim->api_port(), sim->ca_pem(), "h2,http/1.1",
                         "GET /version HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(h2.handshake_ok);
    CHECK(h2.selected_alpn == "h2");
    // An HTTP/2 server's SETTINGS frame (type 4), then GOAWAY (type 7): no HTTP/1.1 answer.
    REQUIRE(h2.received.size() >= 9);
    CHECK(h2.received[3] == '\x04');
    CHECK(h2.received.find("HTTP/1.1") == std::string::npos);
    RawReply h1 = RawTls(sim->api_port(), sim->ca_pem(), "http/1.1", "GET / HTTP/1.1\r\n\r\n");
    CHECK_FALSE(h1.handshake_ok);
  }

  TEST_CASE("sim fault expired: 401 for every token") {
    auto sim = StartWith({"expired"});
    auto r = Version(*sim);
    CHECK(r.status == 401);
    CHECK(json::parse(r.body)["reason"] == "Unauthorized");
    CHECK(Ws(*sim).status == 401);
    CHECK(HttpsRequest(sim->ca_pem(), "GET", sim->api_url() + "/healthz").status == 200);
  }

  TEST_CASE("sim fault drop-after=N: the connection ends after N bytes") {
    auto sim = StartWith({"drop-after=100"});
    RawReply r =
        RawTls(sim->api_port(), sim->ca_pem(), "http/1.1",
               "GET /version HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alice-token\r\n\r\n");
    REQUIRE(r.handshake_ok);
    CHECK(r.received.size() == 100);
    CHECK(r.received.rfind("HTTP/1.1 200 OK", 0) == 0);
    // A client never gets the whole response (curl even reports the cut head as success).
    CHECK(Version(*sim).body.find("gitVersion") == std::string::npos);
  }

  TEST_CASE("sim fault delay=MS: responses wait") {
    auto sim = StartWith({"delay=300"});
    auto start = std::chrono::steady_clock::now();
    CHECK(Version(*sim).status == 200);
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300));
  }

  TEST_CASE("sim fault slow-reader: a large body is read slowly but completely") {
    auto sim = StartWith({"slow-reader"});
    std::string body =
        R"({"spec":{"resourceAttributes":{"verb":"get","resource":"pods","namespace":")" +
        std::string("default") + R"("}},"pad":")" + std::string(16000, 'x') + "\"}";
    auto start = std::chrono::steady_clock::now();
    auto r =
        HttpsRequest(sim->ca_pem(), "POST",
                     sim->api_url() + "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                     {"Authorization: Bearer alice-token", "Content-Type: application/json"}, body);
    CHECK(r.status == 201);
    CHECK(json::parse(r.body)["status"]["allowed"] == true);
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300));
  }

  TEST_CASE(
      "sim fault: streaming-layer faults are recorded for that layer; unknown faults refused") {
    auto sim = StartWith({"no-v5", "slow-reader"});
    CHECK(sim->info()["faults"] == json::array({"no-v5", "slow-reader"}));
    SimOptions bad;
    bad.faults = {"bogus"};
    bad.ready_timeout_ms = 5000;
    std::string err;
    CHECK_FALSE(SimProcess::Start(bad, &err));
    CHECK(err.find("unknown fault") != std::string::npos);
  }
}

}  // namespace kproxy::test
