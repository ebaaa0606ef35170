// Issue 7: real kubectl (1.33 with ExecCredential v1, 1.28 with v1beta1) configured with
// `kproxy credential` against the simulator's access-proxy emulator — its real sign-in page,
// session JWTs, revocation and forwarding — rather than the fake proxy of auth_kubectl_test.cc.
// The sign-in is done by tests/scripts/sim-browser.sh (the fixture user alice); every command
// runs through tests/scripts/auth_run.sh with a clean environment, under a pty when it must be
// interactive (client-go sets spec.interactive only when kubectl's stdin is a terminal).
// The port-forward case also drives kproxy's own port-forward (it needs the same pod port).
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/e2e_start.h"
#include "tests/support/loopback.h"

namespace kproxy::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The "container port" behind port-forward: answers every connection on 127.0.0.1:0 with one
// line, then closes it.
class PodPort {
 public:
  PodPort() {
    fd_ = ListenOnLoopback(&port_, 8);
    thread_ = std::thread([this] {
      while (true) {
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        SendAll(c, "pong from the pod\n");
        ::close(c);
      }
    });
  }
  ~PodPort() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

bool Listed(const std::string& out) {
  return out.find("NAME") != std::string::npos &&
         out.find("web-7d9f5c6b8-abcde") != std::string::npos &&
         out.find("db-0") != std::string::npos;
}

// The kubectl versions the cases run, with the ExecCredential apiVersion their users have
// (1.28 users often still have v1beta1).
struct KubectlUnderTest {
  int minor;
  const char* exec_api;
};
constexpr KubectlUnderTest kKubectls[] = {{33, "v1"}, {28, "v1beta1"}};

// kubectl.1.<minor>, or a failed test case.
fs::path RequireKubectl(int minor) {
  fs::path kubectl = KubectlPath(minor);
  REQUIRE_MESSAGE(!kubectl.empty(), "kubectl.1." << minor << " missing");
  return kubectl;
}

// kubectl 1.33's `get pods` in a fresh rig, signed in once (run "a", under a pty).
struct SignedIn {
  std::unique_ptr<AuthSimRig> rig;
  std::vector<std::string> get;
  std::string jwt;  // the session that run cached
};
SignedIn SignInOnce() {
  fs::path kubectl = RequireKubectl(33);
  SignedIn in{RequireAuthSimRig(), {kubectl.string(), "--context", "sso", "get", "pods"}, ""};
  in.rig->Run("a", /*tty=*/true, {in.rig->Browser()}, in.get);
  REQUIRE(in.rig->Rc("a") == "0\n");
  in.jwt = in.rig->CachedJwt();
  return in;
}

void CheckCachePermissions(const AuthSimRig& r) {
  CHECK(FileMode(r.CacheDir()) == 0700);
  int files = 0;
  for (const auto& e : fs::directory_iterator(r.CacheDir())) {
    CAPTURE(e.path().string());
    CHECK(FileMode(e.path()) == 0600);
    ++files;
  }
  CHECK(files >= 1);
}

}  // namespace

TEST_SUITE("e2e.auth-sim") {
  TEST_CASE(
      "kubectl get pods through the emulator: kproxy credential v1 (1.33) and v1beta1 (1.28)") {
    for (const KubectlUnderTest& k : kKubectls) {
      CAPTURE(k.minor);
      fs::path kubectl = RequireKubectl(k.minor);
      auto rig = RequireAuthSimRig(k.exec_api);
      AuthSimRig& r = *rig;
      const std::vector<std::string> get = {kubectl.string(), "--context", "sso", "get", "pods"};
      r.Run("first", /*tty=*/true, {r.Browser()}, get);
      CHECK(r.Rc("first") == "0\n");
      CHECK_MESSAGE(Listed(r.Out("first")), r.Err("first"));
      json s = r.Stats();
      CHECK(s["signInPageHits"] == 1);
      CHECK(s["signIns"] == 1);
      CHECK(s["loginApiCalls"] == 1);
      std::string jwt = r.CachedJwt();
      REQUIRE(!jwt.empty());
      CHECK(r.WhoIs(jwt) == "alice");
      // Non-interactive now (no terminal, no browser): the cached session is enough.
      r.Run("second", /*tty=*/false, {}, get);
      CHECK(r.Rc("second") == "0\n");
      CHECK_MESSAGE(Listed(r.Out("second")), r.Err("second"));
      CHECK(r.Stats()["signIns"] == 1);
      CHECK(r.Stats()["loginApiCalls"] == 1);
      // kubectl's own highest verbosity, with the plugin's stderr passed through.
      r.Run("verbose", /*tty=*/false, {},
            {kubectl.string(), "--context", "sso", "-v=10", "get", "pods"});
      CHECK(r.Rc("verbose") == "0\n");
      CHECK(r.Err("verbose").find("/api/v1/namespaces/default/pods") != std::string::npos);
      for (const char* n : {"first", "second", "verbose"}) {
        CAPTURE(n);
        CHECK(r.Out(n).find(jwt) == std::string::npos);
        CHECK(r.Err(n).find(jwt) == std::string::npos);
      }
      CheckCachePermissions(r);
    }
  }

  TEST_CASE("ten parallel interactive kubectl get pods, empty cache: one sign-in, ten successes") {
    fs::path kubectl = RequireKubectl(33);
    auto rig = RequireAuthSimRig();
    AuthSimRig& r = *rig;
    std::vector<std::string> lines;
    for (int i = 0; i < 10; ++i) {
      lines.push_back(r.Line("par" + std::to_string(i), /*tty=*/true, {r.Browser()},
                             {kubectl.string(), "--context", "sso", "get", "pods"}));
    }
    r.RunAll(lines);
    json s = r.Stats();
    CHECK(s["signInPageHits"] == 1);
    CHECK(s["signIns"] == 1);
    CHECK(s["loginApiCalls"] == 1);
    int ok = 0;
    for (int i = 0; i < 10; ++i) {
      std::string n = "par" + std::to_string(i);
      bool good = r.Rc(n) == "0\n" && Listed(r.Out(n));
      if (!good) MESSAGE(n << ": rc=" << r.Rc(n) << " err=" << r.Err(n));
      ok += good ? 1 : 0;
    }
    CHECK(ok == 10);
    CheckCachePermissions(r);
  }

  TEST_CASE("kubectl with a revoked session: the probe gets 401, one re-login, success") {
    SignedIn in = SignInOnce();
    AuthSimRig& r = *in.rig;
    const std::vector<std::string>& get = in.get;
    const std::string old_jwt = in.jwt;
    REQUIRE(r.WhoIs(old_jwt) == "alice");
    REQUIRE(r.Revoke());  // the emulator forgets every session; the cache still holds the old one
    REQUIRE(r.WhoIs(old_jwt).empty());
    // The usual case: the revocation is older than the ~60 s a good probe is remembered.
    // Age the cache entry's probe time instead of sleeping a minute.
    REQUIRE(r.AgeProbe(120));
    long unauthenticated = r.Stats()["unauthenticated"];
    r.Run("b", /*tty=*/true, {r.Browser()}, get);
    CHECK(r.Rc("b") == "0\n");
    CHECK_MESSAGE(Listed(r.Out("b")), r.Err("b"));
    json s = r.Stats();
    CHECK(s["signInPageHits"] == 2);  // exactly one re-login
    CHECK(s["signIns"] == 2);
    CHECK(s["unauthenticated"].get<long>() == unauthenticated + 1);  // the probe, and only it
    std::string new_jwt = r.CachedJwt();
    CHECK(new_jwt != old_jwt);
    CHECK(r.WhoIs(new_jwt) == "alice");
    for (const auto& jwt : {old_jwt, new_jwt}) {
      CHECK(r.Err("b").find(jwt) == std::string::npos);
      CHECK(r.Out("b").find(jwt) == std::string::npos);
    }
  }

  TEST_CASE("kubectl right after a revocation: client-go's 401 re-run signs in once, next run ok") {
    // Within the probe memory the plugin hands out the cached session; the API request gets
    // 401 and client-go re-runs the plugin, which must not hand out the same dead token again
    // (it probes, finds it revoked, signs in). client-go still returns that 401 to kubectl, so
    // this one command fails; the next one works without another sign-in.
    SignedIn in = SignInOnce();
    AuthSimRig& r = *in.rig;
    const std::vector<std::string>& get = in.get;
    const std::string old_jwt = in.jwt;
    REQUIRE(r.Revoke());
    r.Run("b", /*tty=*/true, {r.Browser()}, get);
    CHECK(r.Rc("b") != "0\n");
    CHECK(r.Err("b").find("Unauthorized") != std::string::npos);
    CHECK(r.Stats()["signIns"] == 2);
    std::string new_jwt = r.CachedJwt();
    CHECK(new_jwt != old_jwt);
    CHECK(r.WhoIs(new_jwt) == "alice");
    r.Run("c", /*tty=*/false, {}, get);
    CHECK(r.Rc("c") == "0\n");
    CHECK_MESSAGE(Listed(r.Out("c")), r.Err("c"));
    json s = r.Stats();
    CHECK(s["signIns"] == 2);
    CHECK(s["signInPageHits"] == 2);
  }

  TEST_CASE("non-interactive kubectl with a revoked session fails fast: no browser, exit 81") {
    SignedIn in = SignInOnce();
    AuthSimRig& r = *in.rig;
    const std::vector<std::string>& get = in.get;
    REQUIRE(r.Revoke());
    auto t0 = std::chrono::steady_clock::now();
    r.Run("ni", /*tty=*/false, {r.RecordingBrowser()}, get);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20));
    CHECK(r.Rc("ni") != "0\n");
    CHECK(r.Err("ni").find("kproxy login --server " + r.route()) != std::string::npos);
    CHECK(r.Err("ni").find("exit code 81") != std::string::npos);
    CHECK_FALSE(fs::exists(r.Opened()));
    json s = r.Stats();
    CHECK(s["loginApiCalls"] == 1);  // only the first, interactive run's
    CHECK(s["signInPageHits"] == 1);
  }

  TEST_CASE("kubectl exec/port-forward (v1, v1beta1) with kproxy credential; kproxy port-forward") {
    for (const KubectlUnderTest& k : kKubectls) {
      CAPTURE(k.minor);
      fs::path kubectl = RequireKubectl(k.minor);
      PodPort pod;
      REQUIRE(pod.port() > 0);
      // The default fixture, with the web pods' container port 8080 served by `pod`.
      SimOptions options;
      options.fixture_edits = {{"8080: 18080", "8080: " + std::to_string(pod.port())}};
      auto rig = RequireAuthSimRig(k.exec_api, options);
      AuthSimRig& r = *rig;
      // exec signs in on first use (interactive under a pty).
      r.Run("exec", /*tty=*/true, {r.Browser()},
            {kubectl.string(), "--context", "sso", "exec", "web-7d9f5c6b8-abcde", "--", "sh", "-c",
             "echo hello-$((6*7))"});
      CHECK_MESSAGE(r.Rc("exec") == "0\n", r.Err("exec"));
      CHECK(r.Out("exec") == "hello-42\n");
      CHECK(r.Stats()["signIns"] == 1);
      // exec, non-interactive, with a remote exit code: the cached session.
      r.Run(
          "exec3", /*tty=*/false, {},
          {kubectl.string(), "--context", "sso", "exec", "deploy/web", "--", "sh", "-c", "exit 3"});
      CHECK_MESSAGE(r.Rc("exec3") == "3\n", r.Err("exec3"));
      // port-forward from the cached session; the test's own environment must not leak in.
      auto pf = PtySession::Start({kubectl.string(), "--context", "sso", "port-forward",
                                   "pod/web-7d9f5c6b8-abcde", ":8080"},
                                  r.Env("BROWSER=/bin/false"), 80, 24);
      REQUIRE(pf);
      REQUIRE_MESSAGE(pf->WaitFor(" -> 8080", 20000), pf->output());
      int port = ForwardedLocalPort(pf->output(), 8080);
      REQUIRE(port > 0);
      CHECK(ReadFromPort(port) == "pong from the pod\n");
      CHECK(ReadFromPort(port) == "pong from the pod\n");
      json s = r.Stats();
      CHECK(s["signIns"] == 1);
      CHECK(s["signInPageHits"] == 1);
      std::string jwt = r.CachedJwt();
      CHECK(pf->output().find(jwt) == std::string::npos);
      for (const char* n : {"exec", "exec3"}) {
        CHECK(r.Out(n).find(jwt) == std::string::npos);
        CHECK(r.Err(n).find(jwt) == std::string::npos);
      }
      pf.reset();

      // kproxy's own port-forward, after the emulator forgot the session: one re-login (the
      // terminal is the test's pty), then the bytes flow.
      REQUIRE(r.Revoke());
      auto kpf = PtySession::Start({KproxyBinary().string(), "--context", "sso", "port-forward",
                                    "pod/web-7d9f5c6b8-abcde", ":8080"},
                                   r.Env(r.Browser()), 80, 24);
      REQUIRE(kpf);
      REQUIRE_MESSAGE(kpf->WaitFor(" -> 8080", 30000), kpf->output());
      int kport = ForwardedLocalPort(kpf->output(), 8080);
      REQUIRE(kport > 0);
      CHECK(ReadFromPort(kport) == "pong from the pod\n");
      CHECK(ReadFromPort(kport) == "pong from the pod\n");
      CHECK_MESSAGE(r.Stats()["signIns"] == 2, kpf->output());
      std::string second = r.CachedJwt();
      CHECK(second != jwt);
      CHECK(r.WhoIs(second) == "alice");
      CHECK(kpf->output().find(jwt) == std::string::npos);
      CHECK(kpf->output().find(second) == std::string::npos);
    }
  }
}

}  // namespace kproxy::test
