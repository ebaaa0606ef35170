// kproxy exec and attach through the simulator's access-proxy emulator: the default route,
// a route without WebSocket upgrades (silent SPDY fallback), a route without SPDY (WebSocket
// works; forced SPDY is refused and named), and a policy denial for a signed-in user the route
// does not admit (named as the proxy's policy, with the request id, exit 77).
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/e2e_start.h"

namespace kproxy::test {
namespace {

constexpr const char* kPod = "web-7d9f5c6b8-abcde";
constexpr const char* kTtyPod = "db-0";

// exec -i (piped), exec -it (pty), attach -i (piped) on `context`; each must reach the remote
// side over `transport` and return its exit code.
void CheckSessions(const SimCluster& c, const std::string& context, const std::string& transport,
                   bool fell_back) {
  for (const char* verb : {"exec", "attach"}) {
    CAPTURE(std::string(verb));
    std::filesystem::remove_all(c.home.path() / "cache");
    ProcessResult r = std::string(verb) == "exec"
                          ? c.Kproxy({"--context", context, "-v", "1", "exec", "-i", kPod, "--",
                                      "sh", "-c", "cat; echo err-marker >&2; exit 3"},
                                     "through-the-proxy\n")
                          : c.Kproxy({"--context", context, "-v", "1", "attach", "-i", kPod},
                                     "echo attached-$((40+2)); exit 4\n");
    INFO(r.Describe());
    CHECK_FALSE(r.timed_out);
    CHECK(r.err.find("connected over " + transport) != std::string::npos);
    CHECK((r.err.find("websocket attempt failed (upgrade-refused)") != std::string::npos) ==
          fell_back);
    if (std::string(verb) == "exec") {
      CHECK(r.exit_code == 3);
      CHECK(r.out == "through-the-proxy\n");
      CHECK(r.err.find("err-marker\n") != std::string::npos);
    } else {
      CHECK(r.exit_code == 4);
      CHECK(r.out.find("attached-42") != std::string::npos);
    }
  }
  std::filesystem::remove_all(c.home.path() / "cache");
  auto pty = c.Pty({"--context", context, "-v", "1", "exec", "-it", kTtyPod, "--", "sh", "-c",
                    "echo tty-marker; read l; exit 5"});
  REQUIRE(pty);
  CHECK(pty->WaitFor("tty-marker", 15000));
  pty->Write("\n");
  bool timed_out = false;
  int code = pty->Wait(15000, &timed_out);
  INFO("pty: " << pty->output());
  CHECK_FALSE(timed_out);
  CHECK(code == 5);
  CHECK(pty->output().find("connected over " + transport) != std::string::npos);
}

}  // namespace

TEST_SUITE("e2e.exec") {
  TEST_CASE("access proxy: default route, WebSocket v5 end to end") {
    SimCluster c;
    RequireStarted(c, {}, true);
    CheckSessions(c, "proxy", "websocket with v5.channel.k8s.io", false);
  }

  TEST_CASE("access proxy: route without WebSocket upgrades, silent fallback to SPDY") {
    SimCluster c;
    RequireStarted(c, {}, true);
    CheckSessions(c, "proxy-no-websocket", "spdy with v4.channel.k8s.io", true);
  }

  TEST_CASE("access proxy: route without SPDY; WebSocket works, forced SPDY is refused") {
    SimCluster c;
    RequireStarted(c, {}, true);
    CheckSessions(c, "proxy-no-spdy", "websocket with v5.channel.k8s.io", false);
    for (const char* verb : {"exec", "attach"}) {
      CAPTURE(std::string(verb));
      std::vector<std::string> args = {"--context", "proxy-no-spdy",   "-v", "1",
                                       verb,        "--protocol=spdy", kPod};
      if (std::string(verb) == "exec") args.insert(args.end(), {"--", "true"});
      ProcessResult r = c.Kproxy(args);
      INFO(r.Describe());
      CHECK(r.exit_code == 82);
      CHECK(r.err.find("error: the server refused the SPDY/3.1 upgrade (HTTP 403, no body)") !=
            std::string::npos);
      CHECK(r.err.find("trying websocket") == std::string::npos);
      CHECK(r.err.find("connected over") == std::string::npos);
    }
  }

  TEST_CASE("access proxy: policy denial for a user the route does not admit, exit 77") {
    SimCluster c;
    RequireStarted(c, {}, true);
    std::string jwt = c.SignIn("default", "mallory", "mallory-pass");
    REQUIRE(!jwt.empty());
    for (const char* verb : {"exec", "attach"}) {
      CAPTURE(std::string(verb));
      std::vector<std::string> args = {"--context", "proxy", "--token", "Pomerium-" + jwt,
                                       "-v",        "1",     verb,      kPod};
      if (std::string(verb) == "exec") args.insert(args.end(), {"--", "true"});
      ProcessResult r = c.Kproxy(args);
      INFO(r.Describe());
      CHECK_FALSE(r.timed_out);
      CHECK(r.exit_code == 77);
      CHECK(r.err.find("Error from server (Forbidden): Forbidden") != std::string::npos);
      // Named as the proxy's policy (not RBAC), with where to look.
      CHECK(r.err.find("The access proxy's policy for " + c.sim->proxy_url("default")) !=
            std::string::npos);
      CHECK(r.err.find("Kubernetes never saw the request") != std::string::npos);
      // Names the identity the proxy judged (the session's), not the kubeconfig user entry.
      CHECK(r.err.find("denied \"mallory@example.com\"") != std::string::npos);
      CHECK(r.err.find("Request id ") != std::string::npos);
      CHECK(r.err.find("connected over") == std::string::npos);
      // The session token never appears in the output, even at -v 1.
      CHECK(r.err.find(jwt) == std::string::npos);
    }
  }
}

}  // namespace kproxy::test
