// Real kubectl 1.27 … 1.33 against the simulator's streaming side: exec (stdin, stdout, stderr,
// exit codes), exec -it under a pty with a resize, attach, port-forward (HTTP and a 10 MB
// transfer checked by SHA-256), TYPE/NAME forms, and kubectl 1.33 falling back to SPDY in each
// "WebSocket refused" fault mode. Every kubectl run is bounded; the simulator and every child
// are killed at the end of each test case. Missing kubectl versions are reported as skipped.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <openssl/sha.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/kubectl_versions.h"
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

std::string Sha256Hex(const std::string& data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : md) out += {hex[c >> 4], hex[c & 15]};
  return out;
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
)";
}

constexpr const char* kPod = "box-6d5f7c-x1y2z";

// A simulator with the conformance fixture, a pod HTTP server, and kubectl's environment.
struct Cluster {
  TempDir home;
  PodHttpServer http;
  std::unique_ptr<SimProcess> sim;
  std::vector<std::string> env;

  explicit Cluster(std::vector<std::string> faults = {}) {
    std::string fixture = (home.path() / "fixture.yaml").string();
    std::ofstream(fixture) << FixtureYaml(http.port());
    SimOptions o;
    o.proxy = false;
    o.fixture = fixture;
    o.faults = std::move(faults);
    std::string error;
    sim = SimProcess::Start(o, &error);
    INFO("simulator: " << error);
    REQUIRE(sim);
    // kubectl's discovery cache goes to $HOME/.kube; keep it in the test's directory.
    env = {"KUBECONFIG=" + sim->kubeconfig().string(), "HOME=" + home.path().string()};
  }

  ChildResult Kubectl(const KubectlBinary& k, std::vector<std::string> args,
                      const std::string& input = "", std::vector<std::string> extra_env = {}) {
    args.insert(args.begin(), k.path.string());
    std::vector<std::string> e = env;
    e.insert(e.end(), extra_env.begin(), extra_env.end());
    return RunChild(args, e, input, kKubectlTimeoutMs);
  }
};

KubectlVersions Versions() {
  KubectlVersions v = FindKubectlVersions();
  for (const std::string& note : v.SkipNotes()) MESSAGE(note);
  return v;
}

std::string Describe(const ChildResult& r) {
  return "exit=" + std::to_string(r.exit_code) + (r.timed_out ? " (timed out)" : "") +
         "\nstdout: " + r.out.substr(0, 400) + "\nstderr: " + r.err.substr(0, 800);
}

// exec -i with stdin echoed, stderr, and exit codes 0, 3 and 255.
void CheckExec(Cluster& c, const KubectlBinary& k, const std::vector<std::string>& extra_env = {}) {
  ChildResult r =
      c.Kubectl(k, {"exec", "-i", kPod, "--", "sh", "-c", "cat; echo to-err >&2; exit 3"},
                "hello from stdin\n", extra_env);
  INFO(k.name() << " exec -i: " << Describe(r));
  CHECK(r.exit_code == 3);
  CHECK(r.out == "hello from stdin\n");
  CHECK(r.err.find("to-err\n") != std::string::npos);
  CHECK(r.err.find("command terminated with exit code 3") != std::string::npos);

  r = c.Kubectl(k, {"exec", kPod, "--", "sh", "-c", "echo ok"}, "", extra_env);
  INFO(k.name() << " exec exit 0: " << Describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out == "ok\n");

  r = c.Kubectl(k, {"exec", kPod, "--", "sh", "-c", "exit 255"}, "", extra_env);
  INFO(k.name() << " exec exit 255: " << Describe(r));
  CHECK(r.exit_code == 255);
}

// kubectl port-forward in the background; returns the local port it listens on, or 0.
int StartPortForward(Cluster& c, const KubectlBinary& k, const std::string& target,
                     std::unique_ptr<PtyChild>* child,
                     const std::vector<std::string>& extra_env = {}) {
  std::vector<std::string> env = c.env;
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  *child = PtyChild::Start({k.path.string(), "port-forward", target, ":8080"}, env, 80, 24);
  if (!*child) return 0;
  if (!(*child)->WaitFor("Forwarding from 127.0.0.1:", 20000)) return 0;
  (*child)->WaitFor(" -> 8080", 2000);
  std::smatch m;
  const std::string& out = (*child)->output();
  if (!std::regex_search(out, m, std::regex("Forwarding from 127\\.0\\.0\\.1:(\\d+) -> 8080")))
    return 0;
  return std::stoi(m[1]);
}

void CheckPortForward(Cluster& c, const KubectlBinary& k, const std::string& target,
                      const std::vector<std::string>& extra_env = {}) {
  std::unique_ptr<PtyChild> pf;
  int port = StartPortForward(c, k, target, &pf, extra_env);
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
    KubectlVersions versions = Versions();
    Cluster c;
    for (const KubectlBinary& k : versions.found) {
      CAPTURE(k.name());
      CheckExec(c, k);
      ChildResult r = c.Kubectl(k, {"exec", "deploy/box", "--", "echo", "via", "deployment"});
      INFO(k.name() << " exec deploy/box: " << Describe(r));
      CHECK(r.exit_code == 0);
      CHECK(r.out == "via deployment\n");
    }
  }

  TEST_CASE("kubectl exec -it under a pty: stty size before and after a resize") {
    KubectlVersions versions = Versions();
    Cluster c;
    for (const KubectlBinary& k : versions.found) {
      CAPTURE(k.name());
      // A fixed prompt whoever runs the tests (root's sh would print "# ").
      auto pty = PtyChild::Start(
          {k.path.string(), "exec", "-it", kPod, "--", "env", "PS1=sim$ ", "sh"}, c.env, 80, 24);
      REQUIRE(pty);
      // sh prints its prompt once the session runs; ask for the size twice.
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
      INFO(k.name() << " exec -it output: " << pty->output());
      CHECK(r.exit_code == 5);
    }
  }

  TEST_CASE("kubectl attach to the container's process") {
    KubectlVersions versions = Versions();
    Cluster c;
    for (const KubectlBinary& k : versions.found) {
      CAPTURE(k.name());
      // The container's shell runs the input; its exit ends the attach session.
      ChildResult r = c.Kubectl(k, {"attach", "-i", kPod}, "echo attached-$((40+2))\nexit 4\n");
      INFO(k.name() << " attach: " << Describe(r));
      CHECK(!r.timed_out);
      CHECK(r.out.find("attached-42") != std::string::npos);
    }
  }

  TEST_CASE("kubectl port-forward: HTTP and 10 MB by SHA-256, pod/ and deploy/ forms") {
    KubectlVersions versions = Versions();
    Cluster c;
    for (const KubectlBinary& k : versions.found) {
      CAPTURE(k.name());
      CheckPortForward(c, k, std::string("pod/") + kPod);
    }
    if (const KubectlBinary* k = versions.Find(kKubectlMaxMinor))
      CheckPortForward(c, *k, "deploy/box");
  }

  TEST_CASE("simulator CPU per byte stays well below kubectl's (100 MB port-forward)") {
    KubectlVersions versions = Versions();
    Cluster c;
    // The WebSocket tunnel (1.33's default) and plain SPDY (1.28).
    for (int minor : {kKubectlMaxMinor, 28}) {
      const KubectlBinary* k = versions.Find(minor);
      if (!k) continue;
      CAPTURE(k->name());
      std::unique_ptr<PtyChild> pf;
      int port = StartPortForward(c, *k, std::string("pod/") + kPod, &pf);
      REQUIRE(port > 0);
      constexpr size_t kBytes = 100u * 1024 * 1024;
      double sim0 = ProcessCpuSeconds(c.sim->pid()), kubectl0 = ProcessCpuSeconds(pf->pid());
      std::string error;
      std::string body = HttpGet(port, "/big?n=" + std::to_string(kBytes), &error);
      double sim_cpu = ProcessCpuSeconds(c.sim->pid()) - sim0;
      double kubectl_cpu = ProcessCpuSeconds(pf->pid()) - kubectl0;
      REQUIRE(body.size() == kBytes);
      MESSAGE(k->name() << ": 100 MB through port-forward: simulator " << sim_cpu
                        << " s CPU, kubectl " << kubectl_cpu << " s CPU ("
                        << (sim_cpu * 1e9 / kBytes) << " vs " << (kubectl_cpu * 1e9 / kBytes)
                        << " ns/byte)");
      CHECK(sim_cpu < kubectl_cpu);
    }
  }

  TEST_CASE("kubectl 1.33 falls back to SPDY in every WebSocket-refused fault mode") {
    KubectlVersions versions = Versions();
    const KubectlBinary* k = versions.Find(kKubectlMaxMinor);
    if (!k) return;
    for (const char* fault : {"ws-forbidden", "no-v5", "rbac-ws-get"}) {
      CAPTURE(fault);
      Cluster c({fault});
      CheckExec(c, *k);
      CheckPortForward(c, *k, std::string("pod/") + kPod);
    }
  }
}

}  // namespace kproxy::test
