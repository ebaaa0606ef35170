// Real kubectl (1.33 with ExecCredential v1, 1.28 with v1beta1) running `kproxy credential`
// as its exec plugin, against the fake access proxy (tests/support/fake_browser.h) with the
// fake browser script. `kubectl get --raw` needs no discovery, so the fake proxy can answer it.
// The proxy speaks HTTPS with a throwaway CA (client-go runs exec plugins only over TLS);
// kproxy credential learns that CA from spec.cluster (provideClusterInfo). kubectl only reports
// spec.interactive=true when its stdin is a terminal, so interactive runs go through script(1) for
// a pty.
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

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

// kubectl.<version> lives beside the kubectl on PATH (possibly behind a symlink).
fs::path Kubectl(const std::string& version) {
  for (const char* dir : {"/usr/lib/google-cloud-sdk/bin", "/usr/local/bin", "/usr/bin"}) {
    fs::path p = fs::path(dir) / ("kubectl." + version);
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  std::error_code ec;
  fs::path real = fs::canonical("/usr/bin/kubectl", ec);
  if (!ec) return real.parent_path() / ("kubectl." + version);
  return {};
}

std::string Base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

struct KubectlRig {
  // HTTPS: client-go never runs an exec plugin for a plain-http server.
  test::FakeAccessProxy proxy{/*tls=*/true};
  test::TempDir tmp;
  fs::path log = tmp.path() / "browser.log";
  fs::path browser = test::WriteFakeBrowserScript(tmp.path(), log);
  fs::path kubeconfig = tmp.path() / "kubeconfig";
  fs::path kubectl;
  int seq = 0;

  KubectlRig(const std::string& version, const std::string& exec_api) {
    kubectl = Kubectl(version);
    std::ofstream(kubeconfig)
        << "apiVersion: v1\nkind: Config\ncurrent-context: corp\n"
        << "clusters:\n- name: corp\n  cluster:\n    server: " << proxy.url() << "\n"
        << "    certificate-authority-data: " << Base64(proxy.ca_pem()) << "\n"
        << "contexts:\n- name: corp\n  context:\n    cluster: corp\n    user: corp\n"
        << "users:\n- name: corp\n  user:\n    exec:\n"
        << "      apiVersion: client.authentication.k8s.io/" << exec_api << "\n"
        << "      command: " << (test::BinaryDir() / "kproxy").string() << "\n"
        << "      args: [credential, --server, " << proxy.url() << ", --browser-cmd, "
        << browser.string() << ", --login-timeout, 30s]\n"
        << "      interactiveMode: IfAvailable\n"
        << "      provideClusterInfo: true\n"
        << "      installHint: install kproxy\n";
  }
  std::string Env() const {
    return "env -i HOME=" + Quote((tmp.path() / "home").string()) +
           " XDG_CACHE_HOME=" + Quote((tmp.path() / "cache").string()) +
           " PATH=/usr/local/bin:/usr/bin:/bin KUBECONFIG=" + Quote(kubeconfig.string());
  }
  // One `kubectl get --raw` command line, with its stdout/stderr/exit status in files.
  std::string GetRaw(const std::string& name) const {
    fs::path base = tmp.path() / name;
    return Env() + " " + Quote(kubectl.string()) + " get --raw /api/v1/namespaces/default/pods >" +
           Quote(base.string() + ".out") + " 2>" + Quote(base.string() + ".err") + "; echo $? >" +
           Quote(base.string() + ".rc");
  }
  // Runs commands (in parallel) each under its own pty when `tty`, else with stdin /dev/null.
  void RunAll(const std::vector<std::string>& names, bool tty) {
    std::string script;
    for (const auto& n : names) {
      std::string cmd = GetRaw(n);
      if (tty) {
        script += "script -qec " + Quote(cmd) + " /dev/null </dev/null >/dev/null 2>&1 &\n";
      } else {
        script += "( " + cmd + " ) </dev/null &\n";
      }
    }
    script += "wait\n";
    fs::path sh = tmp.path() / ("run" + std::to_string(seq++) + ".sh");
    std::ofstream(sh) << script;
    std::system(("timeout 120 sh " + Quote(sh.string())).c_str());
  }
  std::string Out(const std::string& n) const { return Slurp(tmp.path() / (n + ".out")); }
  std::string Err(const std::string& n) const { return Slurp(tmp.path() / (n + ".err")); }
  std::string Rc(const std::string& n) const { return Slurp(tmp.path() / (n + ".rc")); }
  fs::path CacheFile() const {
    for (const auto& e : fs::directory_iterator(tmp.path() / "cache" / "kproxy")) {
      if (e.path().extension() == ".json") return e.path();
    }
    return {};
  }
};

TEST_SUITE("e2e.auth") {
  TEST_CASE("kubectl runs kproxy credential: sign-in once, then from the cache (v1 and v1beta1)") {
    for (const auto& pair : {std::pair{"1.33", "v1"}, std::pair{"1.28", "v1beta1"}}) {
      // Plain variables: clang 14 cannot capture structured bindings in doctest's lambdas.
      const std::string version = pair.first, api = pair.second;
      CAPTURE(version);
      KubectlRig r(version, api);
      REQUIRE_MESSAGE(::access(r.kubectl.c_str(), X_OK) == 0, "kubectl." << version << " missing");
      r.RunAll({"first"}, /*tty=*/true);
      CHECK(r.Rc("first") == "0\n");
      CHECK(r.Out("first").find("\"kind\":\"PodList\"") != std::string::npos);
      CHECK(r.proxy.sign_in_hits() == 1);
      // Non-interactive now: the cached session is enough.
      r.RunAll({"second"}, /*tty=*/false);
      CHECK(r.Rc("second") == "0\n");
      CHECK(r.proxy.sign_in_hits() == 1);
      CHECK(Lines(Slurp(r.log)) == 1);
      for (const auto& jwt : r.proxy.issued()) {
        CHECK(r.Err("first").find(jwt) == std::string::npos);
        CHECK(r.Err("second").find(jwt) == std::string::npos);
      }
    }
  }

  TEST_CASE("ten parallel kubectl calls with an empty cache: one sign-in page hit, ten successes") {
    KubectlRig r("1.33", "v1");
    REQUIRE(::access(r.kubectl.c_str(), X_OK) == 0);
    std::vector<std::string> names;
    for (int i = 0; i < 10; ++i) names.push_back("par" + std::to_string(i));
    r.RunAll(names, /*tty=*/true);
    CHECK(r.proxy.sign_in_hits() == 1);
    CHECK(r.proxy.login_hits() == 1);
    CHECK(Lines(Slurp(r.log)) == 1);
    int ok = 0;
    for (const auto& n : names) ok += r.Rc(n) == "0\n" ? 1 : 0;
    CHECK(ok == 10);
  }

  TEST_CASE("non-interactive kubectl with no session fails fast with the login command") {
    KubectlRig r("1.33", "v1");
    REQUIRE(::access(r.kubectl.c_str(), X_OK) == 0);
    auto t0 = std::chrono::steady_clock::now();
    r.RunAll({"ni"}, /*tty=*/false);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20));
    CHECK(r.Rc("ni") != "0\n");
    CHECK(r.Err("ni").find("kproxy login --server " + r.proxy.url()) != std::string::npos);
    CHECK(r.Err("ni").find("exit code 81") != std::string::npos);
    CHECK(r.proxy.login_hits() == 0);
    CHECK_FALSE(fs::exists(r.log));
  }

  TEST_CASE("revoked session: the probe finds it dead, one re-login, success") {
    KubectlRig r("1.33", "v1");
    REQUIRE(::access(r.kubectl.c_str(), X_OK) == 0);
    r.RunAll({"a"}, true);
    REQUIRE(r.Rc("a") == "0\n");
    REQUIRE(r.proxy.issued().size() == 1);
    r.proxy.Revoke(r.proxy.issued()[0]);
    // Let the remembered good probe (~60 s) lapse without waiting a minute.
    auto file = r.CacheFile();
    auto j = nlohmann::json::parse(Slurp(file));
    j["last_good_probe"] = j["last_good_probe"].get<long long>() - 120;
    std::ofstream(file) << j.dump();
    r.RunAll({"b"}, true);
    CHECK(r.Rc("b") == "0\n");
    CHECK(r.proxy.sign_in_hits() == 2);
    CHECK(r.proxy.probe_hits() >= 1);
  }
}

}  // namespace
}  // namespace kproxy
