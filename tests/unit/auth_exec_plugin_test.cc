#include <doctest/doctest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "auth/exec_plugin.h"
#include "tests/support/test_env.h"

namespace kproxy::auth {
namespace {

namespace fs = std::filesystem;

// Writes an executable shell script plugin.
fs::path Script(const fs::path& dir, const std::string& name, const std::string& body) {
  fs::path p = dir / name;
  std::ofstream(p) << "#!/bin/sh\n" << body;
  ::chmod(p.c_str(), 0755);
  return p;
}

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

ExecPluginContext Context(const fs::path& path_dir, bool tty = false) {
  ExecPluginContext c;
  c.stdin_available_for_prompt = tty;
  std::string path = path_dir.string() + ":/usr/bin:/bin";
  c.getenv = [path](const std::string& k) -> std::optional<std::string> {
    if (k == "PATH") return path;
    return std::nullopt;
  };
  c.now = [] { return std::chrono::system_clock::from_time_t(1800000000); };
  return c;
}

const char* kGoodV1 =
    R"(echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)"
    R"("status":{"token":"plugin-token","expirationTimestamp":"2027-01-15T08:00:00Z"}}')"
    "\n";

TEST_CASE("exec plugin: PATH lookup, args, env added, KUBERNETES_EXEC_INFO, stdout decoded") {
  test::TempDir tmp;
  Script(tmp.path(), "my-plugin",
         std::string("printf '%s\\n' \"$@\" > '") + (tmp.path() / "args").string() + "'\n" +
             "echo \"$KUBERNETES_EXEC_INFO\" > '" + (tmp.path() / "info").string() + "'\n" +
             "echo \"$EXTRA\" > '" + (tmp.path() / "extra").string() + "'\n" + kGoodV1);
  ExecPluginConfig c;
  c.api_version = "client.authentication.k8s.io/v1";
  c.command = "my-plugin";  // bare → PATH
  c.args = {"get-token", "--flag=a b"};
  c.env = {{"EXTRA", "added"}};
  c.interactive_mode = "IfAvailable";
  auto r = RunExecPlugin(c, std::nullopt, Context(tmp.path()));
  REQUIRE(r.ok());
  CHECK(r->token == "plugin-token");
  CHECK(FormatRfc3339(*r->expiration) == "2027-01-15T08:00:00Z");
  CHECK(Read(tmp.path() / "args") == "get-token\n--flag=a b\n");
  CHECK(Read(tmp.path() / "extra") == "added\n");
  auto info = nlohmann::json::parse(Read(tmp.path() / "info"));
  CHECK(info["apiVersion"] == "client.authentication.k8s.io/v1");
  CHECK(info["kind"] == "ExecCredential");
  CHECK(info["spec"]["interactive"] == false);
  CHECK_FALSE(info["spec"].contains("cluster"));
}

TEST_CASE("exec plugin: provideClusterInfo passes spec.cluster with CA data and config") {
  test::TempDir tmp;
  auto plugin = Script(tmp.path(), "p",
                       std::string("echo \"$KUBERNETES_EXEC_INFO\" > '") +
                           (tmp.path() / "info").string() + "'\n" + kGoodV1);
  ExecPluginConfig c;
  c.api_version = "client.authentication.k8s.io/v1";
  c.command = plugin.string();
  c.interactive_mode = "Never";
  c.provide_cluster_info = true;
  RestConfig rc;
  rc.server = "https://k8s.example:6443";
  rc.ca_data = "-----BEGIN CERTIFICATE-----\n";
  rc.cluster_exec_config_json = R"({"audience":"corp"})";
  REQUIRE(RunExecPlugin(c, ClusterInfoFrom(rc), Context(tmp.path(), true)).ok());
  auto info = nlohmann::json::parse(Read(tmp.path() / "info"));
  CHECK(info["spec"]["interactive"] == false);  // Never, even with a terminal
  CHECK(info["spec"]["cluster"]["server"] == "https://k8s.example:6443");
  CHECK(info["spec"]["cluster"]["certificate-authority-data"] ==
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==");
  CHECK(info["spec"]["cluster"]["config"]["audience"] == "corp");
}

TEST_CASE("exec plugin: client-go's failure messages") {
  test::TempDir tmp;
  ExecPluginConfig c;
  c.api_version = "client.authentication.k8s.io/v1";
  c.interactive_mode = "IfAvailable";
  c.command = Script(tmp.path(), "fails", "echo oops >&2\nexit 3\n").string();
  auto r = RunExecPlugin(c, std::nullopt, Context(tmp.path()));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        "getting credentials: exec: executable " + c.command + " failed with exit code 3");

  c.command = "no-such-plugin-xyz";
  c.install_hint = "Install it with: apt install no-such-plugin";
  r = RunExecPlugin(c, std::nullopt, Context(tmp.path()));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("exec: executable no-such-plugin-xyz not found") == 0);
  CHECK(r.error().message.find("apt install no-such-plugin") != std::string::npos);

  c.command = Script(tmp.path(), "v1beta1", kGoodV1).string();
  c.api_version = "client.authentication.k8s.io/v1beta1";
  r = RunExecPlugin(c, std::nullopt, Context(tmp.path()));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("plugin returned version client.authentication.k8s.io/v1") !=
        std::string::npos);

  c.api_version = "client.authentication.k8s.io/v1";
  c.interactive_mode = "";
  r = RunExecPlugin(c, std::nullopt, Context(tmp.path()));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("interactiveMode must be specified") != std::string::npos);

  c.interactive_mode = "Always";
  r = RunExecPlugin(c, std::nullopt, Context(tmp.path(), false));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("standard input is not a terminal") != std::string::npos);

  c.interactive_mode = "Sometimes";
  CHECK_FALSE(RunExecPlugin(c, std::nullopt, Context(tmp.path())).ok());
  c.interactive_mode = "Never";
  c.api_version = "client.authentication.k8s.io/v1alpha1";
  CHECK_FALSE(RunExecPlugin(c, std::nullopt, Context(tmp.path())).ok());

  c.api_version = "client.authentication.k8s.io/v1";
  c.command = Script(tmp.path(), "garbage", "echo hello\n").string();
  r = RunExecPlugin(c, std::nullopt, Context(tmp.path()));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("getting credentials: decoding stdout") == 0);
}

TEST_CASE("exec plugin: v1beta1 defaults to IfAvailable; stdin withheld when not interactive") {
  test::TempDir tmp;
  // Reads stdin: with /dev/null it sees EOF at once instead of hanging on the test's stdin.
  auto plugin = Script(tmp.path(), "reads-stdin",
                       std::string("cat > '") + (tmp.path() / "stdin").string() + "'\n" +
                           R"(echo '{"apiVersion":"client.authentication.k8s.io/v1beta1",)"
                           R"("kind":"ExecCredential","status":{"token":"t"}}')"
                           "\n");
  ExecPluginConfig c;
  c.api_version = "client.authentication.k8s.io/v1beta1";
  c.command = plugin.string();
  auto r = RunExecPlugin(c, std::nullopt, Context(tmp.path(), false));
  REQUIRE(r.ok());
  CHECK(Read(tmp.path() / "stdin").empty());
  CHECK_FALSE(r->expiration.has_value());
}

TEST_CASE("exec plugin: in-process cache until expiry, invalidated on demand") {
  test::TempDir tmp;
  auto counter = tmp.path() / "runs";
  auto plugin = Script(tmp.path(), "counting",
                       "echo x >> '" + counter.string() + "'\n" +
                           R"(echo '{"apiVersion":"client.authentication.k8s.io/v1",)"
                           R"("kind":"ExecCredential","status":{"token":"t",)"
                           R"("expirationTimestamp":"2027-01-01T00:00:00Z"}}')"
                           "\n");
  ExecPluginConfig c;
  c.api_version = "client.authentication.k8s.io/v1";
  c.command = plugin.string();
  c.interactive_mode = "Never";
  auto ctx = Context(tmp.path());
  auto now = std::make_shared<std::time_t>(1800000000);  // 2027-01-15: after the expiry
  *now = 1790000000;                                     // 2026-09: before it
  ctx.now = [now] { return std::chrono::system_clock::from_time_t(*now); };
  ExecCredentialCache cache(c, std::nullopt, ctx);
  REQUIRE(cache.Get().ok());
  REQUIRE(cache.Get().ok());
  CHECK(Read(counter) == "x\n");
  cache.Invalidate();
  REQUIRE(cache.Get().ok());
  CHECK(Read(counter) == "x\nx\n");
  *now = 1800000000;
  REQUIRE(cache.Get().ok());
  CHECK(Read(counter) == "x\nx\nx\n");
}

}  // namespace
}  // namespace kproxy::auth
