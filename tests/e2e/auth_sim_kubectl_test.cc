// Issue 7: real kubectl (1.33 with ExecCredential v1, 1.28 with v1beta1) configured with
// `kproxy credential` against the simulator's access-proxy emulator — its real sign-in page,
// session JWTs, revocation and forwarding — rather than the fake proxy of auth_kubectl_test.cc.
// The sign-in is done by tests/scripts/sim-browser.sh (the fixture user alice); every command
// runs through tests/scripts/auth_run.sh with a clean environment, under a pty when it must be
// interactive (client-go sets spec.interactive only when kubectl's stdin is a terminal).
// The port-forward case also drives kproxy's own port-forward (it needs the same pod port).
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "tests/support/kubectl_versions.h"
#include "tests/support/sim_process.h"
#include "tests/support/test_env.h"

namespace kproxy::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

fs::path Kubectl(const std::string& version) {
  for (const char* dir : {"/usr/lib/google-cloud-sdk/bin", "/usr/local/bin", "/usr/bin"}) {
    fs::path p = fs::path(dir) / ("kubectl." + version);
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return {};
}

int Mode(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

// One simulator with its access proxy, a work directory holding a copy of the simulator's
// kubeconfig (context "sso": kproxy credential --server <route>), and the token cache.
struct Rig {
  std::unique_ptr<SimProcess> sim;
  TempDir work;
  std::string route;
  std::string ca;

  explicit Rig(const std::string& exec_api = "v1", const SimOptions& options = {}) {
    std::string err;
    sim = SimProcess::Start(options, &err);
    REQUIRE_MESSAGE(sim, err);
    route = sim->proxy_url();
    ca = sim->ca_pem();
    REQUIRE(!route.empty());
    std::string kubeconfig = Slurp(sim->kubeconfig());
    // The simulator writes the v1 stanza; kubectl 1.28 users often still have v1beta1.
    const std::string v1 = "apiVersion: client.authentication.k8s.io/v1\n";
    size_t at = kubeconfig.find(v1);
    REQUIRE(at != std::string::npos);
    kubeconfig.replace(at, v1.size(),
                       "apiVersion: client.authentication.k8s.io/" + exec_api + "\n");
    std::ofstream(work.path() / "kubeconfig") << kubeconfig;
  }

  // The auth_run.sh command line for one run (see the script for what it records).
  std::string Line(const std::string& name, bool tty, const std::vector<std::string>& vars,
                   const std::vector<std::string>& argv) const {
    std::string line = Quote((SourceDir() / "tests/scripts/auth_run.sh").string()) + " " +
                       Quote(work.path().string()) + " " + Quote(name) + (tty ? " tty" : " notty");
    for (const auto& v : vars) line += " " + Quote(v);
    line += " --";
    for (const auto& a : argv) line += " " + Quote(a);
    return line;
  }
  // Runs the lines in parallel and waits for all of them.
  void RunAll(const std::vector<std::string>& lines) const {
    std::string script;
    for (const auto& l : lines) script += l + " &\n";
    script += "wait\n";
    fs::path sh = work.path() / "run.sh";
    std::ofstream(sh) << script;
    int rc = std::system(("timeout 180 bash " + Quote(sh.string())).c_str());
    CHECK(rc == 0);
  }
  void Run(const std::string& name, bool tty, const std::vector<std::string>& vars,
           const std::vector<std::string>& argv) const {
    RunAll({Line(name, tty, vars, argv)});
  }
  std::string Out(const std::string& n) const { return Slurp(work.path() / (n + ".out")); }
  std::string Err(const std::string& n) const { return Slurp(work.path() / (n + ".err")); }
  std::string Rc(const std::string& n) const { return Slurp(work.path() / (n + ".rc")); }

  std::string Browser() const {
    return "BROWSER=" + (SourceDir() / "tests/scripts/sim-browser.sh").string();
  }
  json Stats() const {
    auto r = HttpsRequest(ca, "GET", route + "/.sim/stats");
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }
  void RevokeAll() const {
    REQUIRE(HttpsRequest(ca, "POST", route + "/.sim/revoke", {}, "{}").status == 200);
  }
  fs::path CacheDir() const { return work.path() / "cache" / "kproxy"; }
  // The cached session JWT for the route ("" when none).
  std::string CachedJwt() const {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(CacheDir(), ec)) {
      if (e.path().extension() != ".json") continue;
      auto j = json::parse(Slurp(e.path()), nullptr, false);
      // Other kproxy state lives here too (protocols.json: the exec protocol memory).
      if (j.is_object() && !j.value("token", "").empty()) return j.value("token", "");
    }
    return "";
  }
  // Moves the cache entry's last good probe `seconds` into the past.
  void AgeProbe(long long seconds) const {
    for (const auto& e : fs::directory_iterator(CacheDir())) {
      if (e.path().extension() != ".json") continue;
      auto j = json::parse(Slurp(e.path()));
      if (!j.contains("token")) continue;
      REQUIRE(j.contains("last_good_probe"));
      j["last_good_probe"] = j["last_good_probe"].get<long long>() - seconds;
      std::ofstream(e.path()) << j.dump();
    }
  }
  // Who the proxy says a session belongs to ("" when it refuses it).
  std::string WhoIs(const std::string& jwt) const {
    auto r = HttpsRequest(ca, "GET", route + "/.pomerium/user",
                          {"Accept: application/json", "Authorization: Bearer Pomerium-" + jwt});
    if (r.status != 200) return "";
    return json::parse(r.body).value("user", "");
  }
};

// The "container port" behind port-forward: answers every connection on 127.0.0.1:0 with one
// line, then closes it.
class PodPort {
 public:
  PodPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 8) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port_ = ntohs(a.sin_port);
    }
    thread_ = std::thread([this] {
      while (true) {
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        static const char kLine[] = "pong from the pod\n";
        (void)::send(c, kLine, sizeof kLine - 1, MSG_NOSIGNAL);
        ::close(c);
      }
    });
  }
  ~PodPort() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

// Connects to 127.0.0.1:port and reads until the peer closes (bounded).
std::string ReadFromPort(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  std::string got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char buf[256];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return got;
}

bool Listed(const std::string& out) {
  return out.find("NAME") != std::string::npos &&
         out.find("web-7d9f5c6b8-abcde") != std::string::npos &&
         out.find("db-0") != std::string::npos;
}

void CheckCachePermissions(const Rig& r) {
  CHECK(Mode(r.CacheDir()) == 0700);
  int files = 0;
  for (const auto& e : fs::directory_iterator(r.CacheDir())) {
    CAPTURE(e.path().string());
    CHECK(Mode(e.path()) == 0600);
    ++files;
  }
  CHECK(files >= 1);
}

}  // namespace

TEST_SUITE("e2e.auth-sim") {
  TEST_CASE(
      "kubectl get pods through the emulator: kproxy credential v1 (1.33) and v1beta1 (1.28)") {
    for (const auto& pair : {std::pair{"1.33", "v1"}, std::pair{"1.28", "v1beta1"}}) {
      const std::string version = pair.first, api = pair.second;
      CAPTURE(version);
      fs::path kubectl = Kubectl(version);
      REQUIRE_MESSAGE(!kubectl.empty(), "kubectl." << version << " missing");
      Rig r(api);
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
    fs::path kubectl = Kubectl("1.33");
    REQUIRE(!kubectl.empty());
    Rig r;
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
    fs::path kubectl = Kubectl("1.33");
    REQUIRE(!kubectl.empty());
    Rig r;
    const std::vector<std::string> get = {kubectl.string(), "--context", "sso", "get", "pods"};
    r.Run("a", /*tty=*/true, {r.Browser()}, get);
    REQUIRE(r.Rc("a") == "0\n");
    std::string old_jwt = r.CachedJwt();
    REQUIRE(r.WhoIs(old_jwt) == "alice");
    r.RevokeAll();  // the emulator forgets every session; the cache still holds the old one
    REQUIRE(r.WhoIs(old_jwt).empty());
    // The usual case: the revocation is older than the ~60 s a good probe is remembered.
    // Age the cache entry's probe time instead of sleeping a minute.
    r.AgeProbe(120);
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
    fs::path kubectl = Kubectl("1.33");
    REQUIRE(!kubectl.empty());
    Rig r;
    const std::vector<std::string> get = {kubectl.string(), "--context", "sso", "get", "pods"};
    r.Run("a", /*tty=*/true, {r.Browser()}, get);
    REQUIRE(r.Rc("a") == "0\n");
    std::string old_jwt = r.CachedJwt();
    r.RevokeAll();
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
    fs::path kubectl = Kubectl("1.33");
    REQUIRE(!kubectl.empty());
    Rig r;
    const std::vector<std::string> get = {kubectl.string(), "--context", "sso", "get", "pods"};
    r.Run("a", /*tty=*/true, {r.Browser()}, get);
    REQUIRE(r.Rc("a") == "0\n");
    r.RevokeAll();
    // A browser that only records that it was asked to open something.
    fs::path opened = r.work.path() / "opened";
    fs::path browser = r.work.path() / "browser.sh";
    std::ofstream(browser) << "#!/bin/sh\necho \"$1\" >>" << Quote(opened.string()) << "\n";
    fs::permissions(browser, fs::perms::owner_all);
    auto t0 = std::chrono::steady_clock::now();
    r.Run("ni", /*tty=*/false, {"BROWSER=" + browser.string()}, get);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20));
    CHECK(r.Rc("ni") != "0\n");
    CHECK(r.Err("ni").find("kproxy login --server " + r.route) != std::string::npos);
    CHECK(r.Err("ni").find("exit code 81") != std::string::npos);
    CHECK_FALSE(fs::exists(opened));
    json s = r.Stats();
    CHECK(s["loginApiCalls"] == 1);  // only the first, interactive run's
    CHECK(s["signInPageHits"] == 1);
  }

  TEST_CASE("kubectl exec/port-forward (v1, v1beta1) with kproxy credential; kproxy port-forward") {
    for (const auto& pair : {std::pair{"1.33", "v1"}, std::pair{"1.28", "v1beta1"}}) {
      const std::string version = pair.first, api = pair.second;
      CAPTURE(version);
      fs::path kubectl = Kubectl(version);
      REQUIRE_MESSAGE(!kubectl.empty(), "kubectl." << version << " missing");
      PodPort pod;
      REQUIRE(pod.port() > 0);
      // The default fixture, with the web pods' container port 8080 served by `pod`.
      TempDir fixture_dir;
      std::string fixture = Slurp(SourceDir() / "tests/data/sim/default.yaml");
      for (size_t at; (at = fixture.find("8080: 18080")) != std::string::npos;) {
        fixture.replace(at, 11, "8080: " + std::to_string(pod.port()));
      }
      fs::path fixture_path = fixture_dir.path() / "fixture.yaml";
      std::ofstream(fixture_path) << fixture;
      SimOptions options;
      options.fixture = fixture_path.string();
      Rig r(api, options);
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
      fs::path home = r.work.path() / "home";
      auto pf = PtyChild::Start(
          {kubectl.string(), "--context", "sso", "port-forward", "pod/web-7d9f5c6b8-abcde",
           ":8080"},
          {"HOME=" + home.string(), "XDG_CACHE_HOME=" + (r.work.path() / "cache").string(),
           "KUBECONFIG=" + (r.work.path() / "kubeconfig").string(), "BROWSER=/bin/false",
           "CI=", "KPROXY_SERVICE_ACCOUNT_FILE="},
          80, 24);
      REQUIRE(pf);
      REQUIRE_MESSAGE(pf->WaitFor(" -> 8080", 20000), pf->output());
      std::smatch m;
      const std::string out = pf->output();
      REQUIRE(
          std::regex_search(out, m, std::regex("Forwarding from 127\\.0\\.0\\.1:(\\d+) -> 8080")));
      CHECK(ReadFromPort(std::stoi(m[1])) == "pong from the pod\n");
      CHECK(ReadFromPort(std::stoi(m[1])) == "pong from the pod\n");
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
      r.RevokeAll();
      auto kpf = PtyChild::Start(
          {(BinaryDir() / "kproxy").string(), "--context", "sso", "port-forward",
           "pod/web-7d9f5c6b8-abcde", ":8080"},
          {"HOME=" + home.string(), "XDG_CACHE_HOME=" + (r.work.path() / "cache").string(),
           "KUBECONFIG=" + (r.work.path() / "kubeconfig").string(),
           "BROWSER=" + (SourceDir() / "tests/scripts/sim-browser.sh").string(),
           "CI=", "KPROXY_SERVICE_ACCOUNT_FILE="},
          80, 24);
      REQUIRE(kpf);
      REQUIRE_MESSAGE(kpf->WaitFor(" -> 8080", 30000), kpf->output());
      const std::string kout = kpf->output();
      std::smatch km;
      REQUIRE(std::regex_search(kout, km,
                                std::regex("Forwarding from 127\\.0\\.0\\.1:(\\d+) -> 8080")));
      CHECK(ReadFromPort(std::stoi(km[1])) == "pong from the pod\n");
      CHECK(ReadFromPort(std::stoi(km[1])) == "pong from the pod\n");
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
