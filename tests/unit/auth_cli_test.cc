// The identity commands as kubectl and users run them: the real kproxy binary in a clean
// environment against the fake access proxy, with the fake browser script as --browser-cmd.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/fake_browser.h"
#include "tests/support/test_env.h"

namespace kproxy {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

size_t Lines(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

struct Proc {
  int status;
  std::string out, err;
};

struct CliRig {
  test::FakeAccessProxy proxy;
  test::TempDir tmp;
  fs::path log = tmp.path() / "browser.log";
  fs::path browser = test::WriteFakeBrowserScript(tmp.path(), log);
  std::map<std::string, std::string> env = {{"HOME", (tmp.path() / "home").string()},
                                            {"XDG_CACHE_HOME", (tmp.path() / "cache").string()},
                                            {"PATH", "/usr/local/bin:/usr/bin:/bin"}};
  int seq = 0;

  std::string Command(const std::vector<std::string>& args, const std::string& out,
                      const std::string& err, const std::string& in) {
    std::string cmd = "env -i";
    for (const auto& [k, v] : env) cmd += " " + k + "=" + Quote(v);
    cmd += " " + Quote((test::BinaryDir() / "kproxy").string());
    for (const auto& a : args) cmd += " " + Quote(a);
    return cmd + " <" + in + " >" + Quote(out) + " 2>" + Quote(err);
  }
  // Runs kproxy with stdin from a file (never a terminal).
  Proc Run(const std::vector<std::string>& args, const std::string& stdin_text = "") {
    int n = ++seq;
    fs::path in = tmp.path() / ("in." + std::to_string(n));
    std::ofstream(in) << stdin_text;
    fs::path out = tmp.path() / ("out." + std::to_string(n));
    fs::path err = tmp.path() / ("err." + std::to_string(n));
    int rc = std::system(Command(args, out.string(), err.string(), Quote(in.string())).c_str());
    return {WEXITSTATUS(rc), Slurp(out), Slurp(err)};
  }
  std::vector<std::string> CredentialArgs() {
    return {"credential",     "--server",        proxy.url(), "--browser-cmd",
            browser.string(), "--login-timeout", "20s"};
  }
  static std::string ExecInfo(const std::string& version, bool interactive) {
    return R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/)" + version +
           R"(","spec":{"interactive":)" + (interactive ? "true" : "false") + "}}";
  }
};

TEST_CASE("cli credential: one ExecCredential line on stdout, URL on stderr, apiVersion echoed") {
  CliRig r;
  r.env["KUBERNETES_EXEC_INFO"] = CliRig::ExecInfo("v1", true);
  auto p = r.Run(r.CredentialArgs());
  CHECK(p.status == 0);
  REQUIRE(r.proxy.issued().size() == 1);
  std::string jwt = r.proxy.issued()[0];
  CHECK(p.out == R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)"
                 R"("spec":{},"status":{"token":"Pomerium-)" +
                     jwt + "\"}}\n");
  CHECK(p.err.find("Please visit the following URL to sign in: " + r.proxy.url()) !=
        std::string::npos);
  CHECK(Lines(Slurp(r.log)) == 1);

  r.env["KUBERNETES_EXEC_INFO"] = CliRig::ExecInfo("v1beta1", false);
  auto beta = r.Run(r.CredentialArgs());
  CHECK(beta.status == 0);
  CHECK(beta.out.rfind(R"({"apiVersion":"client.authentication.k8s.io/v1beta1")", 0) == 0);
  CHECK(beta.out.find("Pomerium-" + jwt) != std::string::npos);
  CHECK(beta.err.empty());
  CHECK(r.proxy.sign_in_hits() == 1);
  // Without KUBERNETES_EXEC_INFO: v1.
  r.env.erase("KUBERNETES_EXEC_INFO");
  auto plain = r.Run(r.CredentialArgs());
  CHECK(plain.out.rfind(R"({"apiVersion":"client.authentication.k8s.io/v1",)", 0) == 0);
}

TEST_CASE("cli credential: expirationTimestamp is the JWT's exp minus the safety margin") {
  CliRig r;
  r.proxy.set_jwt_exp(4102444800);  // 2100-01-01T00:00:00Z
  r.env["KUBERNETES_EXEC_INFO"] = CliRig::ExecInfo("v1", true);
  auto p = r.Run(r.CredentialArgs());
  REQUIRE(p.status == 0);
  auto j = nlohmann::json::parse(p.out);
  CHECK(j["status"]["expirationTimestamp"] == "2099-12-31T23:59:30Z");
}

TEST_CASE("cli credential: non-interactive fails fast with the login command and exit 81") {
  CliRig r;
  std::vector<std::map<std::string, std::string>> cases = {
      {{"KUBERNETES_EXEC_INFO", CliRig::ExecInfo("v1", false)}},
      {{"CI", "true"}},
      {},  // stdin is a file, not a terminal
  };
  for (const auto& extra : cases) {
    auto env = r.env;
    for (const auto& [k, v] : extra) r.env[k] = v;
    auto p = r.Run(r.CredentialArgs());
    r.env = env;
    CHECK(p.status == 81);
    CHECK(p.out.empty());
    CHECK(Lines(p.err) == 1);
    CHECK(p.err.find("kproxy login --server " + r.proxy.url()) != std::string::npos);
  }
  CHECK(r.proxy.login_hits() == 0);
  CHECK_FALSE(fs::exists(r.log));
  // Bad KUBERNETES_EXEC_INFO and a missing --server are one-line usage errors.
  r.env["KUBERNETES_EXEC_INFO"] = "{";
  auto bad = r.Run(r.CredentialArgs());
  CHECK(bad.status == 64);
  CHECK(Lines(bad.err) == 1);
  CHECK(bad.out.empty());
  auto noserver = r.Run({"credential"});
  CHECK(noserver.status == 64);
  CHECK(noserver.out.empty());
}

TEST_CASE("cli credential: parallel callers with an empty cache → one sign-in, all succeed") {
  CliRig r;
  r.env["KUBERNETES_EXEC_INFO"] = CliRig::ExecInfo("v1", true);
  constexpr int kProcs = 5;
  std::string script;
  for (int i = 0; i < kProcs; ++i) {
    auto out = (r.tmp.path() / ("par.out." + std::to_string(i))).string();
    auto err = (r.tmp.path() / ("par.err." + std::to_string(i))).string();
    script += "( " + r.Command(r.CredentialArgs(), out, err, "/dev/null") + "; echo $? > " +
              Quote(out + ".rc") + " ) &\n";
  }
  script += "wait\n";
  std::ofstream(r.tmp.path() / "par.sh") << script;
  std::system(("sh " + Quote((r.tmp.path() / "par.sh").string())).c_str());
  CHECK(r.proxy.sign_in_hits() == 1);
  CHECK(r.proxy.login_hits() == 1);
  CHECK(Lines(Slurp(r.log)) == 1);
  REQUIRE(r.proxy.issued().size() == 1);
  int printed_first = 0;
  for (int i = 0; i < kProcs; ++i) {
    auto out = r.tmp.path() / ("par.out." + std::to_string(i));
    CHECK(Slurp(out.string() + ".rc") == "0\n");
    // Every process prints the sign-in URL at most once; only one opened the browser.
    std::string err = Slurp(r.tmp.path() / ("par.err." + std::to_string(i)));
    size_t mentions = 0;
    for (size_t pos = err.find("to sign in: "); pos != std::string::npos;
         pos = err.find("to sign in: ", pos + 1)) {
      ++mentions;
    }
    CHECK(mentions <= 1);
    printed_first += err.rfind("Please visit", 0) == 0 ? 1 : 0;
    CHECK(Slurp(out).find("Pomerium-" + r.proxy.issued()[0]) != std::string::npos);
  }
  CHECK(printed_first == 1);
}

TEST_CASE("cli: the token never appears in logs at -v 10 (login, revoke, re-login)") {
  CliRig r;
  r.env["KUBERNETES_EXEC_INFO"] = CliRig::ExecInfo("v1", true);
  auto args = r.CredentialArgs();
  args.insert(args.begin(), {"-v", "10"});
  auto first = r.Run(args);
  REQUIRE(first.status == 0);
  auto login =
      r.Run({"-v", "10", "login", "--server", r.proxy.url(), "--browser-cmd", r.browser.string()});
  CHECK(login.status == 0);
  CHECK(login.out.empty());
  CHECK(login.err.find("Logged in to " + r.proxy.url() + " as alice@example.com") !=
        std::string::npos);
  auto status = r.Run({"-v", "10", "auth", "status"});
  auto status_json = r.Run({"-v", "10", "auth", "status", "-o", "json"});
  REQUIRE(r.proxy.issued().size() == 2);
  for (const auto& jwt : r.proxy.issued()) {
    std::string payload = jwt.substr(jwt.find('.') + 1, jwt.rfind('.') - jwt.find('.') - 1);
    for (const auto* text : {&first.err, &login.err, &login.out, &status.out, &status.err,
                             &status_json.out, &status_json.err}) {
      CHECK(text->find(payload) == std::string::npos);
    }
  }
}

TEST_CASE("cli: login, auth status, logout") {
  CliRig r;
  auto login =
      r.Run({"login", "--server", r.proxy.url() + ":80/", "--browser-cmd", r.browser.string()});
  CHECK(login.status == 64);  // not a host:port
  CHECK(r.proxy.login_hits() == 0);
  login = r.Run({"login", "--server", r.proxy.url() + "/", "--browser-cmd", r.browser.string()});
  REQUIRE(login.status == 0);
  auto st = r.Run({"auth", "status", "-o", "json"});
  REQUIRE(st.status == 0);
  auto j = nlohmann::json::parse(st.out);
  REQUIRE(j["sessions"].size() == 1);
  auto s = j["sessions"][0];
  CHECK(s["route"] == r.proxy.url());
  CHECK(s["state"] == "valid");
  CHECK(s["identity"]["email"] == "alice@example.com");
  CHECK(s["identity"]["groups"] == nlohmann::json::array({"dev"}));
  CHECK(s["method"] == "access-proxy-login");
  CHECK_FALSE(s.contains("expiresAt"));
  CHECK(s["cacheFile"].get<std::string>().rfind((r.tmp.path() / "cache" / "kproxy").string(), 0) ==
        0);
  auto human = r.Run({"auth", "status"});
  CHECK(human.out.find("identity: alice@example.com") != std::string::npos);
  CHECK(human.out.find("expires:  unknown") != std::string::npos);

  auto out = r.Run({"logout", "--server", r.proxy.url() + "/"});
  CHECK(out.status == 0);
  CHECK(out.err.find("Logged out of " + r.proxy.url()) != std::string::npos);
  CHECK(nlohmann::json::parse(r.Run({"auth", "status", "-o", "json"}).out)["sessions"].empty());
  REQUIRE(r.Run({"login", "--server", r.proxy.url(), "--browser-cmd", r.browser.string()}).status ==
          0);
  CHECK(r.Run({"logout", "--all"}).status == 0);
  CHECK(nlohmann::json::parse(r.Run({"auth", "status", "-o", "json"}).out)["sessions"].empty());
  CHECK(r.Run({"logout"}).status == 78);  // no --server, no kubeconfig context
}

TEST_CASE("cli: login/logout --context reach an HTTPS route with the kubeconfig's CA") {
  test::FakeAccessProxy tls_proxy(/*tls=*/true);
  CliRig r;
  auto kc = r.tmp.path() / "kubeconfig";
  auto ca = r.tmp.path() / "ca.pem";
  std::ofstream(ca) << tls_proxy.ca_pem();
  std::ofstream(kc) << "apiVersion: v1\nkind: Config\ncurrent-context: corp\n"
                    << "clusters:\n- name: corp\n  cluster:\n    server: " << tls_proxy.url()
                    << "\n    certificate-authority: ca.pem\n"
                    << "contexts:\n- name: corp\n  context: {cluster: corp, user: corp}\n"
                    << "users:\n- name: corp\n  user: {token: unused}\n";
  r.env["KUBECONFIG"] = kc.string();
  auto login = r.Run({"login", "--context", "corp", "--browser-cmd", r.browser.string()});
  CHECK(login.status == 0);
  CHECK(tls_proxy.sign_in_hits() == 1);
  CHECK(login.err.find("Logged in to " + tls_proxy.url()) != std::string::npos);
  // Without the CA the route is not trusted: a clear failure, not a silent insecure login.
  std::ofstream(kc) << "apiVersion: v1\nkind: Config\ncurrent-context: corp\n"
                    << "clusters:\n- name: corp\n  cluster:\n    server: " << tls_proxy.url()
                    << "\ncontexts:\n- name: corp\n  context: {cluster: corp, user: corp}\n";
  auto untrusted = r.Run({"login", "--browser-cmd", r.browser.string()});
  CHECK(untrusted.status == 69);
  CHECK(tls_proxy.sign_in_hits() == 1);
  auto out = r.Run({"logout"});  // current context
  CHECK(out.status == 0);
  CHECK(out.err.find("Logged out of " + tls_proxy.url()) != std::string::npos);
  CHECK(r.Run({"logout", "--context", "missing"}).status == 66);
}

TEST_CASE("cli credential: service-account token from KPROXY_SERVICE_ACCOUNT_FILE or stdin") {
  CliRig r;
  auto file = r.tmp.path() / "sa.jwt";
  std::ofstream(file) << "ci-token\n";
  r.env["CI"] = "true";
  r.env["KPROXY_SERVICE_ACCOUNT_FILE"] = file.string();
  auto p = r.Run({"credential", "--server", r.proxy.url()});
  CHECK(p.status == 0);
  CHECK(nlohmann::json::parse(p.out)["status"]["token"] == "Pomerium-ci-token");
  r.env.erase("KPROXY_SERVICE_ACCOUNT_FILE");
  auto in = r.Run({"credential", "--server", r.proxy.url(), "--service-account-file", "-"},
                  "piped-token\n");
  CHECK(nlohmann::json::parse(in.out)["status"]["token"] == "Pomerium-piped-token");
  CHECK(r.proxy.login_hits() == 0);
  auto missing = r.Run({"credential", "--server", r.proxy.url(), "--service-account-file",
                        (r.tmp.path() / "nope").string()});
  CHECK(missing.status == 78);
  CHECK(missing.out.empty());
}

TEST_CASE("cli kubeconfig set-credentials: writes the exec stanza kubectl needs") {
  CliRig r;
  auto kc = r.tmp.path() / "kubeconfig";
  std::ofstream(kc) << "apiVersion: v1\nkind: Config\nusers:\n- name: other\n  user:\n"
                       "    token: keep-me\n";
  auto p = r.Run({"kubeconfig", "set-credentials", "corp", "--server",
                  "HTTPS://K8s.Example.com:443/", "--kubeconfig", kc.string()});
  REQUIRE(p.status == 0);
  YAML::Node root = YAML::LoadFile(kc.string());
  REQUIRE(root["users"].size() == 2);
  CHECK(root["users"][0]["user"]["token"].as<std::string>() == "keep-me");
  auto exec = root["users"][1]["user"]["exec"];
  CHECK(root["users"][1]["name"].as<std::string>() == "corp");
  CHECK(exec["apiVersion"].as<std::string>() == "client.authentication.k8s.io/v1");
  CHECK(exec["interactiveMode"].as<std::string>() == "IfAvailable");
  CHECK(exec["command"].as<std::string>() == "kproxy");
  CHECK(exec["args"].as<std::vector<std::string>>() ==
        std::vector<std::string>{"credential", "--server", "https://k8s.example.com"});
  CHECK_FALSE(exec["installHint"].as<std::string>().empty());
  // Re-running replaces the entry instead of adding another.
  REQUIRE(r.Run({"kubeconfig", "set-credentials", "corp", "--server", "https://k8s.example.com",
                 "--exec-api-version", "v1beta1", "--kubeconfig", kc.string()})
              .status == 0);
  root = YAML::LoadFile(kc.string());
  CHECK(root["users"].size() == 2);
  CHECK(root["users"][1]["user"]["exec"]["apiVersion"].as<std::string>() ==
        "client.authentication.k8s.io/v1beta1");
}

}  // namespace
}  // namespace kproxy
