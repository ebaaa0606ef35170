// Real kubectl 1.27 … 1.33 against the simulator, directly and through the access-proxy
// emulator with a session token: get pods, -o wide, -o json, and a forbidden get printed the
// way kubectl always prints it. A version is skipped only when its binary is missing.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/sim_process.h"

namespace kproxy::test {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// kubectl.1.NN live beside the kubectl on PATH (after resolving its symlink).
fs::path KubectlDir() {
  const char* path = getenv("PATH");
  std::stringstream ss(path ? path : "");
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    fs::path candidate = fs::path(dir) / "kubectl";
    if (access(candidate.c_str(), X_OK) == 0) {
      std::error_code ec;
      fs::path real = fs::canonical(candidate, ec);
      return ec ? fs::path(dir) : real.parent_path();
    }
  }
  return {};
}

std::string SignIn(const SimProcess& sim, const std::string& user, const std::string& password) {
  auto r = HttpsRequest(sim.ca_pem(), "POST", sim.proxy_url() + "/.pomerium/sign_in", {},
                        "user=" + user + "&password=" + password +
                            "&pomerium_redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb");
  std::string loc = r.Header("location");
  size_t at = loc.find("pomerium_jwt=");
  REQUIRE(at != std::string::npos);
  return loc.substr(at + 13);
}

}  // namespace

TEST_SUITE("conformance.get") {
  TEST_CASE("kubectl 1.27-1.33 get against the simulator, direct and through the access proxy") {
    std::string err;
    auto sim = SimProcess::Start(SimOptions{}, &err);
    REQUIRE_MESSAGE(sim, err);
    fs::path home = sim->dir() / "home";
    fs::create_directories(home);
    std::vector<std::string> env = {"KUBECONFIG=" + sim->kubeconfig().string(),
                                    "HOME=" + home.string(), "NO_PROXY=127.0.0.1,localhost",
                                    "HTTPS_PROXY=", "https_proxy="};
    std::string bob_session = "Pomerium-" + SignIn(*sim, "bob", "bob-pass");
    fs::path dir = KubectlDir();
    int ran = 0;
    for (int minor = 27; minor <= 33; ++minor) {
      fs::path kubectl = dir / ("kubectl.1." + std::to_string(minor));
      if (dir.empty() || access(kubectl.c_str(), X_OK) != 0) {
        MESSAGE("skipping kubectl 1." << minor << ": " << kubectl.string() << " is not installed");
        continue;
      }
      ++ran;
      CAPTURE(minor);
      auto run = [&](std::vector<std::string> args) {
        args.insert(args.begin(), kubectl.string());
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
