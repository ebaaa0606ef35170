// Real kubectl 1.27 … 1.33 against the simulator, directly and through the access-proxy
// emulator with a session token: get pods, -o wide, -o json, and a forbidden get printed the
// way kubectl always prints it. A version is skipped only when its binary is missing.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/kubectl_versions.h"
#include "tests/support/pty_runner.h"
#include "tests/support/sim_process.h"

namespace kproxy::test {

namespace fs = std::filesystem;
using nlohmann::json;

TEST_SUITE("conformance.get") {
  TEST_CASE("kubectl 1.27-1.33 get against the simulator, direct and through the access proxy") {
    KubectlVersions versions = FindKubectlVersions();
    for (const std::string& note : versions.SkipNotes()) MESSAGE(note);
    std::string err;
    SimCluster cluster;  // for its proxy sign-in
    cluster.sim = SimProcess::Start(SimOptions{}, &err);
    REQUIRE_MESSAGE(cluster.sim, err);
    const SimProcess* sim = cluster.sim.get();
    fs::path home = sim->dir() / "home";
    fs::create_directories(home);
    std::vector<std::string> env = {"KUBECONFIG=" + sim->kubeconfig().string(),
                                    "HOME=" + home.string(), "NO_PROXY=127.0.0.1,localhost",
                                    "HTTPS_PROXY=", "https_proxy="};
    std::string bob_jwt = cluster.SignIn("default", "bob", "bob-pass");
    REQUIRE(!bob_jwt.empty());
    std::string bob_session = "Pomerium-" + bob_jwt;
    int ran = 0;
    for (const KubectlBinary& k : versions.found) {
      ++ran;
      std::string kubectl = k.name();
      CAPTURE(kubectl);
      auto run = [&](std::vector<std::string> args) {
        args.insert(args.begin(), k.path.string());
        return RunCommand(args, env, 60000);
      };
      for (const std::string& context : {std::string("sim"), std::string("proxy")}) {
        CAPTURE(context);
        auto pods = run({"--context", context, "get", "pods"});
        CHECK_MESSAGE(pods.status == 0, pods.err);
        CHECK(pods.out.rfind("NAME ", 0) == 0);
        CHECK(pods.out.find("READY   STATUS") != std::string::npos);
        CHECK(pods.out.find("web-7d9f5c6b8-abcde   1/1     Running") != std::string::npos);
        CHECK(pods.out.find("migrate-x7k2p") != std::string::npos);
        CHECK(pods.out.find("Completed") != std::string::npos);
        CHECK(std::count(pods.out.begin(), pods.out.end(), '\n') == 7);

        auto wide = run({"--context", context, "get", "pods", "-o", "wide", "-l", "app=web"});
        CHECK_MESSAGE(wide.status == 0, wide.err);
        CHECK(wide.out.find("IP            NODE         NOMINATED NODE   READINESS GATES") !=
              std::string::npos);
        CHECK(wide.out.find("sim-node-1") != std::string::npos);
        CHECK(std::count(wide.out.begin(), wide.out.end(), '\n') == 3);

        auto pod = run({"--context", context, "get", "pod", "db-0", "-o", "json"});
        CHECK_MESSAGE(pod.status == 0, pod.err);
        json j = json::parse(pod.out, nullptr, false);
        CHECK(j["kind"] == "Pod");
        CHECK(j["metadata"]["name"] == "db-0");
        CHECK(j["spec"]["containers"][0]["tty"] == true);
      }
      const std::string forbidden =
          "Error from server (Forbidden): pods \"api-5f6d7c8b9-kl3mn\" is forbidden: User \"bob\" "
          "cannot get resource \"pods\" in API group \"\" in the namespace \"prod\"\n";
      auto direct =
          run({"--context", "sim-bob", "-n", "prod", "get", "pod", "api-5f6d7c8b9-kl3mn"});
      CHECK(direct.status == 1);
      CHECK(direct.err == forbidden);
      auto proxied = run({"--context", "proxy", "--token", bob_session, "-n", "prod", "get", "pod",
                          "api-5f6d7c8b9-kl3mn"});
      CHECK(proxied.status == 1);
      CHECK(proxied.err == forbidden);
    }
    MESSAGE("ran " << ran << " kubectl versions");
    REQUIRE(ran > 0);
  }
}

}  // namespace kproxy::test
