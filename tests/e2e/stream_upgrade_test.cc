// The simulator's upgrade answers for the streaming subresources, over real TLS: SPDY version
// negotiation errors with the kubelet's texts, the WebSocket 101 (accept key, chosen
// subprotocol, the 1-byte marker), the no-v5 emulation of a pre-1.30 server, and the tunnel's
// 400 there.
#include <doctest/doctest.h>

#include <string>

#include "core/transport/http_upgrade.h"
#include "tests/support/sim_process.h"

namespace kproxy::test {
namespace {

constexpr const char* kExecPath =
    "/api/v1/namespaces/default/pods/web-7d9f5c6b8-abcde/exec?command=echo&command=hi&stdout=true";
constexpr const char* kKey = "dGhlIHNhbXBsZSBub25jZQ==";

std::string Request(const std::string& method, const std::string& target,
                    const std::vector<std::string>& headers) {
  std::string r = method + " " + target +
                  " HTTP/1.1\r\nHost: sim\r\n"
                  "Authorization: Bearer alice-token\r\n"
                  "User-Agent: test kubernetes/0\r\nConnection: Upgrade\r\n";
  for (const std::string& h : headers) r += h + "\r\n";
  return r + "Content-Length: 0\r\n\r\n";
}

std::string WsRequest(const std::string& target, const std::string& protocols) {
  return Request(
      "GET", target,
      {"Upgrade: websocket", "Sec-WebSocket-Version: 13", std::string("Sec-WebSocket-Key: ") + kKey,
       "Sec-WebSocket-Protocol: " + protocols});
}

std::unique_ptr<SimProcess> StartSim(std::vector<std::string> faults = {}) {
  SimOptions o;
  o.proxy = false;
  o.faults = std::move(faults);
  std::string error;
  auto sim = SimProcess::Start(o, &error);
  INFO(error);
  REQUIRE(sim);
  return sim;
}

}  // namespace

TEST_SUITE("e2e.stream") {
  TEST_CASE("SPDY exec upgrade: version required (400) and negotiated (403 lists both sides)") {
    auto sim = StartSim();
    RawReply r = RawTls(sim->api_port(), sim->ca_pem(), "http/1.1",
                        Request("POST", kExecPath, {"Upgrade: SPDY/3.1"}));
    CHECK(r.received.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(r.received.find("\r\n\r\nunable to upgrade: X-Stream-Protocol-Version is required\n") !=
          std::string::npos);
    r = RawTls(sim->api_port(), sim->ca_pem(), "http/1.1",
               Request("POST", kExecPath,
                       {"Upgrade: SPDY/3.1", "X-Stream-Protocol-Version: v9.channel.k8s.io"}));
    CHECK(r.received.rfind("HTTP/1.1 403", 0) == 0);
    CHECK(r.received.find("unable to upgrade: unable to negotiate protocol: client supports "
                          "[v9.channel.k8s.io], server accepts [v4.channel.k8s.io "
                          "v3.channel.k8s.io v2.channel.k8s.io channel.k8s.io]") !=
          std::string::npos);
    r = RawTls(sim->api_port(), sim->ca_pem(), "http/1.1",
               Request("POST", kExecPath,
                       {"Upgrade: SPDY/3.1", "X-Stream-Protocol-Version: v5.channel.k8s.io",
                        "X-Stream-Protocol-Version: v4.channel.k8s.io"}),
               0, 1500);
    CHECK(r.received.rfind("HTTP/1.1 101", 0) == 0);
    CHECK(r.received.find("X-Stream-Protocol-Version: v4.channel.k8s.io\r\n") != std::string::npos);
  }

  TEST_CASE("WebSocket exec upgrade: accept key, the client's first supported protocol, marker") {
    auto sim = StartSim();
    RawReply r =
        RawTls(sim->api_port(), sim->ca_pem(), "http/1.1",
               WsRequest(kExecPath, "x.unknown, v4.channel.k8s.io, v5.channel.k8s.io"), 0, 2000);
    CHECK(r.received.rfind("HTTP/1.1 101", 0) == 0);
    // RFC 6455 §1.3's example key and accept value.
    CHECK(r.received.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") !=
          std::string::npos);
    CHECK(r.received.find("Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n") != std::string::npos);
    size_t body = r.received.find("\r\n\r\n");
    REQUIRE(body != std::string::npos);
    // The first frame: binary, 1 byte, channel 1 (stdout).
    CHECK(r.received.substr(body + 4, 3) == std::string("\x82\x01\x01", 3));
  }

  TEST_CASE("no-v5 fault: a 101 without v5 for exec, 400 for the port-forward tunnel") {
    auto sim = StartSim({"no-v5"});
    RawReply r = RawTls(sim->api_port(), sim->ca_pem(), "http/1.1",
                        WsRequest(kExecPath, "v5.channel.k8s.io"), 0, 1500);
    CHECK(r.received.rfind("HTTP/1.1 101", 0) == 0);
    CHECK(r.received.find("Sec-WebSocket-Protocol") == std::string::npos);
    r = RawTls(sim->api_port(), sim->ca_pem(), "http/1.1",
               WsRequest("/api/v1/namespaces/default/pods/web-7d9f5c6b8-abcde/portforward",
                         "SPDY/3.1+portforward.k8s.io"));
    CHECK(r.received.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(r.received.find("query parameter \"port\" is required") != std::string::npos);
  }
}

}  // namespace kproxy::test
