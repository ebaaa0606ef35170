// Real kubectl 1.27 … 1.33 against the simulator's streaming side, each check run for two
// targets: the API server directly, and the access-proxy emulator with a session token. Exec
// (stdin, stdout, stderr, exit codes), exec -it under a pty with a resize, attach, port-forward
// (HTTP and a 10 MB transfer checked by SHA-256), TYPE/NAME forms, an RBAC denial (and, through
// the proxy, a policy denial) as kubectl prints them, and kubectl 1.33 falling back to SPDY in
// each "WebSocket refused" mode (API-server faults, and the proxy route refusing upgrades).
// Independent versions and targets run a few at a time (KPROXY_CONFORMANCE_JOBS, default 3);
// every kubectl run is bounded; simulators and children are killed at the end of each case.
// Missing kubectl versions are reported as skipped.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/kubectl_versions.h"
#include "tests/support/pty_runner.h"
#include "tests/support/sim_process.h"
#include "tests/support/test_env.h"

namespace kproxy::test {
namespace {

constexpr int kKubectlTimeoutMs = 30000;
constexpr size_t kBigBody = 10 * 1024 * 1024;

// A deterministic body: SHA-256 on both ends proves every byte arrived in order.
std::string BigBody(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    s[i] = static_cast<char>(x);
  }
  return s;
}

// The "container" behind port-forward: a tiny HTTP/1.0-style server on 127.0.0.1:0 answering
// GET / with a greeting and GET /big?n=N with N deterministic bytes, one connection at a time
// per thread.
class PodHttpServer {
 public:
  PodHttpServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(fd_, 16);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~PodHttpServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
    for (std::thread& t : workers_) t.join();
  }
  int port() const { return port_; }

 private:
  void Loop() {
    while (!stop_) {
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      workers_.emplace_back([c] { Serve(c); });
    }
  }
  static void Serve(int c) {
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      req.append(buf, n);
    }
    std::string body = "hello from the pod\n";
    std::smatch m;
    if (std::regex_search(req, m, std::regex("GET /big\\?n=(\\d+)")))
      body = BigBody(std::stoul(m[1]));
    std::string head = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\nConnection: close\r\n\r\n";
    std::string all = head + body;
    size_t off = 0;
    while (off < all.size()) {
      ssize_t n = send(c, all.data() + off, all.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += n;
    }
    close(c);
  }
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> workers_;
};

// GETs `path` from 127.0.0.1:port (through kubectl's local listener); returns the body, or ""
// with `error`.
std::string HttpGet(int port, const std::string& path, std::string* error) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    *error = "connect failed";
    close(fd);
    return "";
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: pod\r\n\r\n";
  send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string resp;
  char buf[65536];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) resp.append(buf, n);
  close(fd);
  size_t body = resp.find("\r\n\r\n");
  if (resp.rfind("HTTP/1.1 200", 0) != 0 || body == std::string::npos) {
    *error = "bad response: " + resp.substr(0, 200);
    return "";
  }
  return resp.substr(body + 4);
}

std::string FixtureYaml(int http_port) {
  std::string p = std::to_string(http_port);
  return R"(serverVersion: v1.33.1
namespaces: [default]
users:
  - name: alice
    token: alice-token
    groups: [developers]
  # Admitted by the proxy; may read pods but has none of the streaming subresources.
  - name: bob
    token: bob-token
    password: bob-pass
    rules:
      - verbs: [get, list]
        resources: [pods]
        namespaces: [default]
  # Signs in to the proxy, but no route's policy admits her.
  - name: mallory
    token: mallory-token
    password: mallory-pass
  - name: system:serviceaccount:kproxy:access-proxy
    token: access-proxy-sa-token
    rules:
      - verbs: [impersonate]
        apiGroups: [""]
        resources: [users, groups]
groups:
  - name: developers
    rules:
      - verbs: ["*"]
        apiGroups: ["*"]
        resources: ["*"]
        namespaces: ["*"]
pods:
  - name: box-6d5f7c-x1y2z
    namespace: default
    labels: {app: box, pod-template-hash: 6d5f7c}
    ownerReferences: [{kind: ReplicaSet, name: box-6d5f7c}]
    containers:
      - name: main
        image: busybox:1.36
        command: [sh]
        stdin: true
        ports: [{name: http, containerPort: 8080}]
    portMap: {8080: )" +
         p + R"(}
deployments:
  - {name: box, namespace: default, replicas: 1, labels: {app: box}, selector: {app: box}}
replicasets:
  - name: box-6d5f7c
    namespace: default
    replicas: 1
    selector: {app: box, pod-template-hash: 6d5f7c}
    ownerReferences: [{kind: Deployment, name: box}]
services:
  - name: box
    namespace: default
    selector: {app: box}
    ports: [{name: http, port: 80, targetPort: http}]
proxy:
  serviceAccount: system:serviceaccount:kproxy:access-proxy
  routes:
    - name: default
      allowedUsers: [alice, bob]
    - name: no-websocket
      allowedUsers: [alice]
      allowWebSocket: false
)";
}

constexpr const char* kPod = "box-6d5f7c-x1y2z";

// Where kubectl's requests go. Through the access-proxy emulator kubectl presents the
// pre-minted `Pomerium-<JWT>` session of the kubeconfig's `proxy` context; the proxy applies
// the route's policy and forwards with its service account impersonating the session's user.
struct Target {
  const char* name;
  bool proxy;
};
constexpr Target kTargets[] = {{"direct", false}, {"proxy", true}};

// A simulator with the conformance fixture (and the access proxy for the proxy target), a pod
// HTTP server, and kubectl's environment.
struct Cluster {
  PodHttpServer http;
  SimCluster sim;  // the simulator process, a private HOME, and proxy sign-in
  Target target;

  explicit Cluster(Target t, std::vector<std::string> faults = {}) : target(t) {
    std::string fixture = (sim.home.path() / "fixture.yaml").string();
    std::ofstream(fixture) << FixtureYaml(http.port());
    SimOptions o;
    o.proxy = t.proxy;
    o.fixture = fixture;
    o.faults = std::move(faults);
    std::string error;
    sim.sim = SimProcess::Start(o, &error);
    INFO("simulator: " << error);
    REQUIRE(sim.sim);
    sim.env = {"KUBECONFIG=" + sim.sim->kubeconfig().string()};
  }

  // The context flags that make kubectl act as the fixture's alice on this target; on the proxy
  // target, `route` picks another proxy route ("no-websocket").
  std::vector<std::string> Alice(const std::string& route = "") const {
    if (!target.proxy) return {"--context", "sim"};
    return {"--context", route.empty() ? "proxy" : "proxy-" + route};
  }

  // The flags that make kubectl act as `user`: its bearer token directly, or a session the
  // proxy minted when the user signed in (the proxy impersonates the user upstream).
  std::vector<std::string> As(const std::string& user, const std::string& password) const {
    if (!target.proxy) return {"--context", "sim-" + user};
    std::string jwt = sim.SignIn("default", user, password);
    REQUIRE(!jwt.empty());
    return {"--context", "proxy", "--token", "Pomerium-" + jwt};
  }

  // kubectl's argv: `identity` (default: Alice()) before `args`.
  std::vector<std::string> Argv(const KubectlBinary& k, const std::vector<std::string>& args,
                                std::vector<std::string> identity = {}) const {
    if (identity.empty()) identity = Alice();
    std::vector<std::string> argv = {k.path.string()};
    argv.insert(argv.end(), identity.begin(), identity.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  // kubectl's environment: its discovery cache goes to $HOME/.kube, so each version (possibly
  // running concurrently with others) gets its own HOME inside the test's directory.
  std::vector<std::string> Env(const KubectlBinary& k) const {
    std::filesystem::path home = sim.home.path() / (std::string(target.name) + "-" + k.name());
    std::filesystem::create_directories(home);
    std::vector<std::string> env = sim.env;
    env.push_back("HOME=" + home.string());
    return env;
  }

  ChildResult Kubectl(const KubectlBinary& k, const std::vector<std::string>& args,
                      const std::string& input = "",
                      const std::vector<std::string>& identity = {}) const {
    return RunChild(Argv(k, args, identity), Env(k), input, kKubectlTimeoutMs);
  }

  // The access proxy's counters (/.sim/stats: forwarded, denied, unauthenticated, ...).
  nlohmann::json ProxyStats() const {
    HttpReply r = HttpsRequest(sim.sim->ca_pem(), "GET", sim.sim->proxy_url() + "/.sim/stats");
    return nlohmann::json::parse(r.body, nullptr, false);
  }

  // Through the proxy target, the proxy really carried the traffic, every session accepted.
  void CheckCarried() const {
    if (!target.proxy) return;
    nlohmann::json stats = ProxyStats();
    INFO("proxy stats: " << stats.dump());
    CHECK(stats.value("forwarded", 0) > 0);
    CHECK(stats.value("unauthenticated", -1) == 0);
  }
};

KubectlVersions Versions() {
  KubectlVersions v = FindKubectlVersions();
  for (const std::string& note : v.SkipNotes()) MESSAGE(note);
  REQUIRE(!v.found.empty());
  return v;
}

// How many kubectl runs go on at once: the versions and targets are independent and a kubectl
// run mostly waits on its peer, but the machine has two cores shared with other builds.
int Jobs() {
  const char* j = std::getenv("KPROXY_CONFORMANCE_JOBS");
  int n = j ? std::atoi(j) : 3;
  return n < 1 ? 1 : (n > 8 ? 8 : n);
}

// Runs job(0) … job(count-1) on at most Jobs() threads. doctest assertions are thread-safe and
// its INFO/CAPTURE contexts thread-local, so each job captures its own labels; a REQUIRE ends
// only its own job (it was already reported as a failure). Returns which jobs ran to the end.
std::vector<bool> RunBounded(size_t count, const std::function<void(size_t)>& job) {
  std::atomic<size_t> next{0};
  std::vector<char> finished(count, 0);
  auto worker = [&] {
    for (size_t i; (i = next++) < count;) {
      try {
        job(i);
        finished[i] = 1;
      } catch (...) {
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < Jobs() && static_cast<size_t>(t) < count; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  return std::vector<bool>(finished.begin(), finished.end());
}

// Whether versions may share one target's simulator at the same time. Attach may not: every
// attach joins the container's one process, so one version's "exit" would end the others'.
enum class Sharing { kConcurrent, kOneVersionAtATime };

// Runs `check` for every installed kubectl against both targets (one simulator per target,
// kept for all versions), then confirms the proxy carried its share. Prints the versions ×
// targets that ran to the end (failed checks are doctest's own report).
void ForEveryVersionAndTarget(const std::string& what,
                              const std::function<void(Cluster&, const KubectlBinary&)>& check,
                              Sharing sharing = Sharing::kConcurrent) {
  KubectlVersions versions = Versions();
  std::vector<std::unique_ptr<Cluster>> clusters;
  for (const Target& t : kTargets) clusters.push_back(std::make_unique<Cluster>(t));
  size_t n = versions.found.size();
  auto one = [&](size_t i) {
    Cluster& c = *clusters[i / n];
    const KubectlBinary& k = versions.found[i % n];
    std::string target = c.target.name, kubectl = k.name();
    CAPTURE(target);
    CAPTURE(kubectl);
    check(c, k);
  };
  std::vector<bool> finished;
  if (sharing == Sharing::kConcurrent) {
    finished = RunBounded(clusters.size() * n, one);
  } else {
    std::vector<char> done(clusters.size() * n, 0);  // not vector<bool>: written concurrently
    RunBounded(clusters.size(), [&](size_t t) {
      for (size_t v = 0; v < n; ++v)
        done[t * n + v] = RunBounded(1, [&](size_t) { one(t * n + v); })[0];
    });
    finished.assign(done.begin(), done.end());
  }
  for (const auto& c : clusters) c->CheckCarried();
  std::string table = what + ":";
  for (size_t t = 0; t < clusters.size(); ++t) {
    table += std::string("\n  ") + clusters[t]->target.name + ":";
    for (size_t v = 0; v < n; ++v)
      table += " " + versions.found[v].name() + (finished[t * n + v] ? "" : "(ABORTED)");
  }
  MESSAGE(table);
}

std::string Describe(const ChildResult& r) {
  return "exit=" + std::to_string(r.exit_code) + (r.timed_out ? " (timed out)" : "") +
         "\nstdout: " + r.out.substr(0, 400) + "\nstderr: " + r.err.substr(0, 800);
}

// exec -i with stdin echoed, stderr, and exit codes 0, 3 and 255.
void CheckExec(const Cluster& c, const KubectlBinary& k,
               const std::vector<std::string>& identity = {}) {
  ChildResult r =
      c.Kubectl(k, {"exec", "-i", kPod, "--", "sh", "-c", "cat; echo to-err >&2; exit 3"},
                "hello from stdin\n", identity);
  INFO(k.name() << " exec -i: " << Describe(r));
  CHECK(r.exit_code == 3);
  CHECK(r.out == "hello from stdin\n");
  CHECK(r.err.find("to-err\n") != std::string::npos);
  CHECK(r.err.find("command terminated with exit code 3") != std::string::npos);

  r = c.Kubectl(k, {"exec", kPod, "--", "sh", "-c", "echo ok"}, "", identity);
  INFO(k.name() << " exec exit 0: " << Describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out == "ok\n");

  r = c.Kubectl(k, {"exec", kPod, "--", "sh", "-c", "exit 255"}, "", identity);
  INFO(k.name() << " exec exit 255: " << Describe(r));
  CHECK(r.exit_code == 255);
}

// kubectl port-forward in the background; returns the local port it listens on, or 0.
int StartPortForward(const Cluster& c, const KubectlBinary& k, const std::string& target,
                     std::unique_ptr<PtyChild>* child,
                     const std::vector<std::string>& identity = {}) {
  *child =
      PtyChild::Start(c.Argv(k, {"port-forward", target, ":8080"}, identity), c.Env(k), 80, 24);
  if (!*child) return 0;
  if (!(*child)->WaitFor("Forwarding from 127.0.0.1:", 20000)) return 0;
  (*child)->WaitFor(" -> 8080", 2000);
  std::smatch m;
  const std::string& out = (*child)->output();
  if (!std::regex_search(out, m, std::regex("Forwarding from 127\\.0\\.0\\.1:(\\d+) -> 8080")))
    return 0;
  return std::stoi(m[1]);
}

void CheckPortForward(const Cluster& c, const KubectlBinary& k, const std::string& target,
                      const std::vector<std::string>& identity = {}) {
  std::unique_ptr<PtyChild> pf;
  int port = StartPortForward(c, k, target, &pf, identity);
  INFO(k.name() << " port-forward output: " << (pf ? pf->output() : "(no pty)"));
  REQUIRE(port > 0);
  std::string error;
  CHECK(HttpGet(port, "/", &error) == "hello from the pod\n");
  CHECK(error == "");
  std::string big = HttpGet(port, "/big?n=" + std::to_string(kBigBody), &error);
  CHECK(error == "");
  CHECK(big.size() == kBigBody);
  CHECK(Sha256Hex(big) == Sha256Hex(BigBody(kBigBody)));
  // kubectl logs each accepted connection (read from its pty now: nothing read it meanwhile).
  CHECK(pf->WaitFor("Handling connection for " + std::to_string(port), 5000));
}

}  // namespace

TEST_SUITE("conformance.stream") {
  TEST_CASE("kubectl exec: stdin, stdout, stderr, exit codes 0/3/255, TYPE/NAME") {
    ForEveryVersionAndTarget("exec", [](Cluster& c, const KubectlBinary& k) {
      CheckExec(c, k);
      ChildResult r = c.Kubectl(k, {"exec", "deploy/box", "--", "echo", "via", "deployment"});
      INFO(k.name() << " exec deploy/box: " << Describe(r));
      CHECK(r.exit_code == 0);
      CHECK(r.out == "via deployment\n");
    });
  }

  TEST_CASE("kubectl exec -it under a pty: stty size before and after a resize") {
    ForEveryVersionAndTarget("exec -it resize", [](Cluster& c, const KubectlBinary& k) {
      // A fixed prompt whoever runs the tests (root's sh would print "# ").
      auto pty = PtyChild::Start(c.Argv(k, {"exec", "-it", kPod, "--", "env", "PS1=sim$ ", "sh"}),
                                 c.Env(k), 80, 24);
      REQUIRE(pty);
      // sh prints its prompt once the session runs; ask for the size twice.
      INFO(k.name() << " exec -it output: " << pty->output());
      REQUIRE(pty->WaitFor("sim$ ", 20000));
      pty->Write("stty size\n");
      CHECK(pty->WaitFor("24 80", 10000));
      size_t mark = pty->output().size();
      pty->Resize(120, 40);
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      pty->Write("stty size\n");
      CHECK(pty->WaitFor("40 120", 10000, mark));
      pty->Write("exit 5\n");
      ChildResult r = pty->Wait(15000);
      CHECK(r.exit_code == 5);
    });
  }

  TEST_CASE("kubectl attach to the container's process") {
    ForEveryVersionAndTarget(
        "attach",
        [](Cluster& c, const KubectlBinary& k) {
          // The container's shell runs the input; its exit ends the attach session.
          ChildResult r = c.Kubectl(k, {"attach", "-i", kPod}, "echo attached-$((40+2))\nexit 4\n");
          INFO(k.name() << " attach: " << Describe(r));
          CHECK(!r.timed_out);
          CHECK(r.out.find("attached-42") != std::string::npos);
        },
        Sharing::kOneVersionAtATime);
  }

  TEST_CASE("kubectl port-forward: HTTP and 10 MB by SHA-256, pod/ and deploy/ forms") {
    ForEveryVersionAndTarget("port-forward", [](Cluster& c, const KubectlBinary& k) {
      CheckPortForward(c, k, std::string("pod/") + kPod);
      if (k.minor == kKubectlMaxMinor) CheckPortForward(c, k, "deploy/box");
    });
  }

  TEST_CASE("kubectl prints RBAC denials (and the proxy's policy denial) in its usual form") {
    ForEveryVersionAndTarget("denials", [](Cluster& c, const KubectlBinary& k) {
      // bob may get the pod but has no streaming subresource; through the proxy he is the
      // impersonated user. Versions that try WebSocket first (GET → "get") fall back to SPDY on
      // the 403 and report the POST's "create" denial, like against a real API server.
      std::vector<std::string> bob = c.As("bob", "bob-pass");
      auto denial = [](const char* resource) {
        return std::string("pods \"") + kPod + "\" is forbidden: User \"bob\" cannot create " +
               "resource \"" + resource + "\" in API group \"\" in the namespace \"default\"\n";
      };
      ChildResult r = c.Kubectl(k, {"exec", kPod, "--", "true"}, "", bob);
      INFO(k.name() << " exec as bob: " << Describe(r));
      CHECK(r.exit_code == 1);
      CHECK(r.out == "");
      CHECK(r.err == "Error from server (Forbidden): " + denial("pods/exec"));

      r = c.Kubectl(k, {"attach", "-i", kPod}, "echo never\n", bob);
      INFO(k.name() << " attach as bob: " << Describe(r));
      CHECK(r.exit_code == 1);
      CHECK(r.out == "");
      CHECK(r.err.find("Error from server (Forbidden): " + denial("pods/attach")) !=
            std::string::npos);

      r = c.Kubectl(k, {"port-forward", std::string("pod/") + kPod, ":8080"}, "", bob);
      INFO(k.name() << " port-forward as bob: " << Describe(r));
      CHECK(r.exit_code == 1);
      CHECK(r.err == "error: error upgrading connection: " + denial("pods/portforward"));
      if (!c.target.proxy) return;

      // mallory signs in, but the route's policy refuses her before Kubernetes sees anything:
      // Pomerium's bare Status (message "Forbidden") is all kubectl gets for the pod lookup.
      r = c.Kubectl(k, {"exec", kPod, "--", "true"}, "", c.As("mallory", "mallory-pass"));
      INFO(k.name() << " exec as mallory: " << Describe(r));
      CHECK(r.exit_code == 1);
      CHECK(r.out == "");
      CHECK(r.err == "Error from server (Forbidden): Forbidden\n");
    });
  }

  TEST_CASE("simulator CPU per byte stays well below kubectl's (100 MB port-forward)") {
    KubectlVersions versions = Versions();
    Cluster c(kTargets[0]);
    // The WebSocket tunnel (1.33's default) and plain SPDY (1.28).
    for (int minor : {kKubectlMaxMinor, 28}) {
      const KubectlBinary* k = versions.Find(minor);
      if (!k) continue;
      CAPTURE(k->name());
      std::unique_ptr<PtyChild> pf;
      int port = StartPortForward(c, *k, std::string("pod/") + kPod, &pf);
      REQUIRE(port > 0);
      constexpr size_t kBytes = 100u * 1024 * 1024;
      double sim0 = ProcessCpuSeconds(c.sim.sim->pid()), kubectl0 = ProcessCpuSeconds(pf->pid());
      std::string error;
      std::string body = HttpGet(port, "/big?n=" + std::to_string(kBytes), &error);
      double sim_cpu = ProcessCpuSeconds(c.sim.sim->pid()) - sim0;
      double kubectl_cpu = ProcessCpuSeconds(pf->pid()) - kubectl0;
      REQUIRE(body.size() == kBytes);
      MESSAGE(k->name() << ": 100 MB through port-forward: simulator " << sim_cpu
                        << " s CPU, kubectl " << kubectl_cpu << " s CPU ("
                        << (sim_cpu * 1e9 / kBytes) << " vs " << (kubectl_cpu * 1e9 / kBytes)
                        << " ns/byte)");
      CHECK(sim_cpu < kubectl_cpu);
    }
  }

  TEST_CASE("kubectl 1.33 falls back to SPDY wherever WebSocket is refused, direct and proxied") {
    KubectlVersions versions = Versions();
    const KubectlBinary* k = versions.Find(kKubectlMaxMinor);
    REQUIRE_MESSAGE(k, "kubectl.1.33 is not installed");
    // Each API-server fault on both targets, and the proxy route that refuses WebSocket upgrades.
    struct Refusal {
      Target target;
      const char* fault;
      const char* route;
    };
    std::vector<Refusal> refusals;
    for (const Target& t : kTargets)
      for (const char* fault : {"ws-forbidden", "no-v5", "rbac-ws-get"})
        refusals.push_back({t, fault, ""});
    refusals.push_back({kTargets[1], "", "no-websocket"});
    std::vector<bool> finished = RunBounded(refusals.size(), [&](size_t i) {
      const Refusal& m = refusals[i];
      std::string target = m.target.name, fault = m.fault, route = m.route;
      CAPTURE(target);
      CAPTURE(fault);
      CAPTURE(route);
      std::vector<std::string> faults;
      if (!fault.empty()) faults.push_back(fault);
      Cluster c(m.target, faults);
      CheckExec(c, *k, c.Alice(route));
      CheckPortForward(c, *k, std::string("pod/") + kPod, c.Alice(route));
      c.CheckCarried();
      // The route itself refused the WebSocket upgrades (a bare 403), not the API server.
      if (!route.empty()) CHECK(c.ProxyStats().value("denied", 0) > 0);
    });
    std::string table = k->name() + " SPDY fallback (exec + port-forward):";
    for (size_t i = 0; i < refusals.size(); ++i)
      table += std::string("\n  ") + refusals[i].target.name + " " +
               (*refusals[i].fault ? "--fault=" + std::string(refusals[i].fault)
                                   : "route " + std::string(refusals[i].route)) +
               (finished[i] ? "" : " (ABORTED)");
    MESSAGE(table);
  }
}

}  // namespace kproxy::test
