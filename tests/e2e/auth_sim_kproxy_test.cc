// Issue 7: kproxy's own commands against the simulator's access-proxy emulator, the kubeconfig
// user being `kproxy credential --server <route>` (served in-process): login on first use under
// a pty, `kproxy login` first for non-interactive callers, exit 81 without a session, one
// re-login after the emulator revokes the session, forged callbacks refused during a real
// sign-in, cache permissions, and no token in any output at -v 10. Commands run through
// tests/scripts/auth_run.sh with a clean environment (a pty when interactive).
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>

#include "tests/support/e2e_start.h"

namespace kproxy::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Kproxy() { return KproxyBinary().string(); }

std::string Script(const char* name) { return (SourceDir() / "tests/scripts" / name).string(); }

const std::vector<std::string> kGetPods = {Kproxy(), "--context", "sso", "get", "pods"};

bool Listed(const std::string& out) {
  return out.find("web-7d9f5c6b8-abcde") != std::string::npos &&
         out.find("db-0") != std::string::npos;
}

}  // namespace

TEST_SUITE("e2e.auth-sim") {
  TEST_CASE("kproxy get pods logs in on first use under a terminal, then uses the cache") {
    auto rig = RequireAuthSimRig();
    AuthSimRig& r = *rig;
    r.Run("first", /*tty=*/true, {r.Browser()}, kGetPods);
    CHECK(r.Rc("first") == "0\n");
    CHECK_MESSAGE(Listed(r.Out("first")), r.Err("first"));
    CHECK(r.Err("first").find("Please visit the following URL to sign in: " + r.route() +
                              "/.pomerium/sign_in?") != std::string::npos);
    json s = r.Stats();
    CHECK(s["signInPageHits"] == 1);
    CHECK(s["signIns"] == 1);
    std::string jwt = r.CachedJwt();
    CHECK(r.WhoIs(jwt) == "alice");
    r.Run("second", /*tty=*/false, {r.RecordingBrowser()}, kGetPods);
    CHECK(r.Rc("second") == "0\n");
    CHECK(Listed(r.Out("second")));
    CHECK(r.Stats()["signIns"] == 1);
    CHECK_FALSE(fs::exists(r.Opened()));
  }

  TEST_CASE("non-interactive kproxy without a session: exit 81, the login command, no browser") {
    auto rig = RequireAuthSimRig();
    AuthSimRig& r = *rig;
    auto t0 = std::chrono::steady_clock::now();
    r.Run("ni", /*tty=*/false, {r.RecordingBrowser()}, kGetPods);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20));
    CHECK(r.Rc("ni") == "81\n");
    CHECK(r.Err("ni").find("kproxy login --server " + r.route()) != std::string::npos);
    CHECK(r.Out("ni").empty());
    CHECK_FALSE(fs::exists(r.Opened()));
    CHECK(r.Stats()["loginApiCalls"] == 0);
    // `kproxy login` needs no terminal (it prints the URL); afterwards the same call works.
    r.Run("login", /*tty=*/false, {r.Browser()}, {Kproxy(), "login", "--context", "sso"});
    CHECK(r.Rc("login") == "0\n");
    CHECK(r.Err("login").find("Logged in to " + r.route() + " as alice@example.com") !=
          std::string::npos);
    r.Run("after", /*tty=*/false, {r.RecordingBrowser()}, kGetPods);
    CHECK(r.Rc("after") == "0\n");
    CHECK_MESSAGE(Listed(r.Out("after")), r.Err("after"));
    CHECK(r.Stats()["signIns"] == 1);
    CHECK_FALSE(fs::exists(r.Opened()));
  }

  TEST_CASE("kproxy with a revoked session: one re-login under a terminal; exit 81 without") {
    auto rig = RequireAuthSimRig();
    AuthSimRig& r = *rig;
    r.Run("login", /*tty=*/false, {r.Browser()}, {Kproxy(), "login", "--context", "sso"});
    REQUIRE(r.Rc("login") == "0\n");
    std::string first = r.CachedJwt();
    // Every session of alice minted so far dies; signing in again must still work.
    REQUIRE(r.Revoke(R"({"user":"alice"})"));
    REQUIRE(r.WhoIs(first).empty());
    r.Run("ni", /*tty=*/false, {r.RecordingBrowser()}, kGetPods);
    CHECK(r.Rc("ni") == "81\n");
    CHECK(r.Err("ni").find("kproxy login --server " + r.route()) != std::string::npos);
    CHECK_FALSE(fs::exists(r.Opened()));
    CHECK(r.Stats()["signIns"] == 1);

    r.Run("tty", /*tty=*/true, {r.Browser()}, kGetPods);
    CHECK(r.Rc("tty") == "0\n");
    CHECK_MESSAGE(Listed(r.Out("tty")), r.Err("tty"));
    json s = r.Stats();
    CHECK(s["signIns"] == 2);
    CHECK(s["signInPageHits"] == 2);
    std::string second = r.CachedJwt();
    CHECK(second != first);
    CHECK(r.WhoIs(second) == "alice");
  }

  TEST_CASE("forged callbacks are refused and the real sign-in still completes") {
    auto rig = RequireAuthSimRig();
    AuthSimRig& r = *rig;
    fs::path log = r.work() / "forge.log";
    r.Run("login", /*tty=*/false,
          {"BROWSER=" + Script("auth_forging_browser.sh"), "FORGE_LOG=" + log.string()},
          {Kproxy(), "login", "--context", "sso"});
    CHECK(r.Rc("login") == "0\n");
    std::string forged = ReadFileOrEmpty(log);
    CAPTURE(forged);
    for (const char* attempt : {"wrong-state", "wrong-path", "post", "two-states", "no-jwt"}) {
      CAPTURE(attempt);
      CHECK(forged.find(std::string(attempt) + " 400\n") != std::string::npos);
    }
    CHECK(forged.find("signed-in alice\n") != std::string::npos);
    // bob's session was offered first, on the right path and state, by POST: not taken.
    CHECK(r.Err("login").find("as alice@example.com") != std::string::npos);
    std::string jwt = r.CachedJwt();
    CHECK(r.WhoIs(jwt) == "alice");
    json s = r.Stats();
    CHECK(s["signIns"] == 2);  // bob (forged) and alice
    CHECK(s["signInPageHits"] == 1);
    r.Run("get", /*tty=*/false, {}, kGetPods);
    CHECK(r.Rc("get") == "0\n");
    CHECK(Listed(r.Out("get")));
  }

  TEST_CASE("cache is 0700/0600 and no session token appears in any output at -v 10") {
    auto rig = RequireAuthSimRig();
    AuthSimRig& r = *rig;
    r.Run("login", /*tty=*/false, {r.Browser()},
          {Kproxy(), "-v", "10", "login", "--context", "sso"});
    REQUIRE(r.Rc("login") == "0\n");
    std::string first = r.CachedJwt();
    REQUIRE(!first.empty());
    CHECK(FileMode(r.CacheDir()) == 0700);
    int files = 0;
    for (const auto& e : fs::directory_iterator(r.CacheDir())) {
      CAPTURE(e.path().string());
      CHECK(FileMode(e.path()) == 0600);
      ++files;
    }
    CHECK(files >= 2);  // the entry and its lock file
    std::vector<std::string> runs = {"login"};
    auto run = [&](const std::string& name, bool tty, const std::vector<std::string>& argv) {
      r.Run(name, tty, {r.Browser()}, argv);
      CHECK_MESSAGE(r.Rc(name) == "0\n", name << ": " << r.Err(name));
      runs.push_back(name);
    };
    run("get", false, {Kproxy(), "-v", "10", "--context", "sso", "get", "pods"});
    CHECK(r.Err("get").find("/api/v1/namespaces/default/pods") != std::string::npos);
    run("status", false, {Kproxy(), "-v", "10", "auth", "status"});
    CHECK(r.Out("status").find("alice@example.com") != std::string::npos);
    run("status-json", false, {Kproxy(), "-v", "10", "auth", "status", "-o", "json"});
    // The plugin itself at -v 10, as kubectl runs it (cluster info from the kubeconfig's CA):
    // the token goes to stdout inside the ExecCredential, and only there.
    std::string kubeconfig = ReadFileOrEmpty(r.work() / "kubeconfig");
    std::smatch ca;
    REQUIRE(std::regex_search(kubeconfig, ca, std::regex("certificate-authority-data: (\\S+)")));
    json info = {{"apiVersion", "client.authentication.k8s.io/v1"},
                 {"kind", "ExecCredential"},
                 {"spec",
                  {{"interactive", false},
                   {"cluster", {{"server", r.route()}, {"certificate-authority-data", ca[1]}}}}}};
    r.Run("plugin", false, {"KUBERNETES_EXEC_INFO=" + info.dump()},
          {Kproxy(), "-v", "10", "credential", "--server", r.route()});
    CHECK_MESSAGE(r.Rc("plugin") == "0\n", r.Err("plugin"));
    json cred = json::parse(r.Out("plugin"), nullptr, false);
    REQUIRE(cred.is_object());
    CHECK(cred["status"]["token"] == "Pomerium-" + first);
    CHECK(r.Err("plugin").find(first) == std::string::npos);
    // A re-login after revocation, at -v 10, logs the whole 401 → login → retry path.
    REQUIRE(r.Revoke());
    run("relogin", true, {Kproxy(), "-v", "10", "--context", "sso", "get", "pods"});
    CHECK(r.Stats()["signIns"] == 2);
    std::string second = r.CachedJwt();
    REQUIRE(!second.empty());
    CHECK(second != first);
    CHECK(FileMode(r.CacheDir()) == 0700);
    for (const auto& e : fs::directory_iterator(r.CacheDir())) CHECK(FileMode(e.path()) == 0600);
    for (const auto& n : runs) {
      CAPTURE(n);
      for (const auto& jwt : {first, second}) {
        CHECK(r.Out(n).find(jwt) == std::string::npos);
        CHECK(r.Err(n).find(jwt) == std::string::npos);
        // The signature alone is as good as the token to an attacker who can guess the rest.
        CHECK(r.Err(n).find(jwt.substr(jwt.rfind('.') + 1)) == std::string::npos);
      }
    }
  }

  TEST_CASE("kproxy exec through the emulator: first-use login, re-login after a revocation") {
    auto rig = RequireAuthSimRig();
    AuthSimRig& r = *rig;
    const std::vector<std::string> exec = {Kproxy(), "--context",  "sso",
                                           "exec",   "deploy/web", "--",
                                           "sh",     "-c",         "echo hello-$((6*7))"};
    r.Run("first", /*tty=*/true, {r.Browser()}, exec);
    CHECK_MESSAGE(r.Rc("first") == "0\n", r.Err("first"));
    CHECK(r.Out("first").find("hello-42") != std::string::npos);
    CHECK(r.Stats()["signIns"] == 1);
    std::string first = r.CachedJwt();
    // The upgrade request is refused (401) with the dead session: one re-login, one retry.
    REQUIRE(r.Revoke());
    r.Run("again", /*tty=*/true, {r.Browser()}, exec);
    CHECK_MESSAGE(r.Rc("again") == "0\n", r.Err("again"));
    CHECK(r.Out("again").find("hello-42") != std::string::npos);
    json s = r.Stats();
    CHECK(s["signIns"] == 2);
    CHECK(s["signInPageHits"] == 2);
    std::string second = r.CachedJwt();
    CHECK(second != first);
    // Non-interactive after another revocation: exit 81, no browser, nothing run.
    REQUIRE(r.Revoke());
    r.Run("ni", /*tty=*/false, {r.RecordingBrowser()}, exec);
    CHECK(r.Rc("ni") == "81\n");
    CHECK(r.Err("ni").find("kproxy login --server " + r.route()) != std::string::npos);
    CHECK(r.Out("ni").find("hello-42") == std::string::npos);
    CHECK_FALSE(fs::exists(r.Opened()));
    CHECK(r.Stats()["signIns"] == 2);
    for (const char* n : {"first", "again", "ni"}) {
      for (const auto& jwt : {first, second}) {
        CHECK(r.Out(n).find(jwt) == std::string::npos);
        CHECK(r.Err(n).find(jwt) == std::string::npos);
      }
    }
  }
}

}  // namespace kproxy::test
