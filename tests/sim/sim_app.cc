#include "tests/sim/sim_app.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/base/log.h"
#include "tests/sim/api/api_server.h"
#include "tests/sim/faults.h"
#include "tests/sim/fixture.h"
#include "tests/sim/proxy/access_proxy.h"
#include "tests/sim/proxy/jwt.h"
#include "tests/sim/server/http_server.h"
#include "tests/sim/server/tls_context.h"
#include "tests/sim/streaming/streaming_handler.h"

namespace kproxy::sim {

namespace {

namespace fs = std::filesystem;

struct UpOptions {
  std::string dir;
  std::string fixture;
  bool proxy = false;
  std::vector<std::string> faults;
  int api_port = 0;
  std::string user = "alice";
  int verbosity = 0;
};

// One access-log line per request at -v 1 (secrets redacted by Log).
void AccessLog(const char* who, const HttpRequest& req, const HttpResponse& resp) {
  if (Verbosity() < 1) return;
  Log(1, std::string("sim ") + who + ": " + req.method + " " + req.target + " -> " +
             (resp.takeover ? std::string("takeover") : std::to_string(resp.status)));
}

bool WriteFileAtomic(const fs::path& path, const std::string& text, mode_t mode) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out << text;
    if (!out) return false;
  }
  chmod(tmp.c_str(), mode);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return !ec;
}

std::string Base64(const std::string& bytes) {
  std::string out = Base64UrlEncode(bytes);
  for (char& c : out) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (out.size() % 4) out.push_back('=');
  return out;
}

// YAML double-quoted scalar (JSON string syntax is valid YAML).
std::string Q(const std::string& s) { return nlohmann::json(s).dump(); }

struct RouteInstance {
  std::string name;
  std::unique_ptr<AccessProxy> proxy;
  std::unique_ptr<HttpServer> server;
  std::string url;
};

// The kproxy binary built beside this simulator (build/kproxy), else "kproxy" from PATH.
std::string KproxyCommand() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path sibling = self.parent_path() / "kproxy";
    if (fs::exists(sibling, ec)) return sibling.string();
  }
  return "kproxy";
}

std::string Kubeconfig(const Fixture& fixture, const std::string& ca_pem,
                       const std::string& api_url, const std::vector<RouteInstance>& routes,
                       SessionStore* sessions, const std::string& direct_user) {
  std::string ca = Base64(ca_pem);
  std::string y = "apiVersion: v1\nkind: Config\nclusters:\n";
  y += "- name: sim\n  cluster:\n    server: " + Q(api_url) +
       "\n    certificate-authority-data: " + ca + "\n";
  for (const RouteInstance& r : routes) {
    std::string cname = r.name == "default" ? "sim-proxy" : "sim-proxy-" + r.name;
    y += "- name: " + Q(cname) + "\n  cluster:\n    server: " + Q(r.url) +
         "\n    certificate-authority-data: " + ca + "\n";
  }
  y += "users:\n";
  for (const User& u : fixture.users) {
    if (u.token.empty()) continue;
    y += "- name: " + Q(u.name) + "\n  user:\n    token: " + Q(u.token) + "\n";
  }
  // A ready-made access-proxy session for the first user each route admits, so kubectl works
  // through the proxy at once (kproxy's own login replaces it).
  for (const RouteInstance& r : routes) {
    const User* who = fixture.FindUser(direct_user);
    if (!who) continue;
    std::string uname = r.name == "default" ? "proxy" : "proxy-" + r.name;
    y += "- name: " + Q(uname) +
         "\n  user:\n    token: " + Q("Pomerium-" + sessions->Mint(*who, r.url)) + "\n";
  }
  // "sso": kproxy as the credential plugin, signing in through the access proxy's identity
  // flow (the README's main job uses it).
  for (const RouteInstance& r : routes) {
    if (r.name != "default") continue;
    y += "- name: sso\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
         "      command: " +
         Q(KproxyCommand()) + "\n      args: [\"credential\", \"--server\", " + Q(r.url) +
         "]\n      interactiveMode: IfAvailable\n"
         // Real kubectl runs the plugin as a child: without the cluster info it cannot know
         // the simulator's CA and the login request fails TLS verification.
         "      provideClusterInfo: true\n      installHint: " +
         Q("kproxy is built by tests/run-all.sh (build/kproxy)") + "\n";
  }
  y += "contexts:\n";
  for (const RouteInstance& r : routes) {
    if (r.name != "default") continue;
    y += "- name: sso\n  context:\n    cluster: \"sim-proxy\"\n    user: sso\n"
         "    namespace: default\n";
  }
  y += "- name: sim\n  context:\n    cluster: sim\n    user: " + Q(direct_user) +
       "\n    namespace: default\n";
  for (const User& u : fixture.users) {
    if (u.token.empty()) continue;
    y += "- name: " + Q("sim-" + u.name) +
         "\n  context:\n    cluster: sim\n    user: " + Q(u.name) + "\n    namespace: default\n";
  }
  for (const RouteInstance& r : routes) {
    std::string suffix = r.name == "default" ? "" : "-" + r.name;
    y += "- name: " + Q("proxy" + suffix) +
         "\n  context:\n    cluster: " + Q("sim-proxy" + suffix) +
         "\n    user: " + Q("proxy" + suffix) + "\n    namespace: default\n";
  }
  y += "current-context: sim\n";
  return y;
}

int Up(const UpOptions& opt) {
  auto faults = ParseFaults(opt.faults);
  if (!faults) {
    std::cerr << "kproxy-sim: " << faults.error().message << "\n";
    return 2;
  }
  fs::path fixture_path = opt.fixture.empty() ? DefaultFixturePath() : fs::path(opt.fixture);
  auto fixture = LoadFixture(fixture_path);
  if (!fixture) {
    std::cerr << "kproxy-sim: " << fixture.error().message << "\n";
    return 2;
  }
  for (const User& u : fixture->users) {
    if (!u.token.empty()) RegisterSecret(u.token);
    if (!u.password.empty()) RegisterSecret(u.password);
  }
  if (!fixture->FindUser(opt.user) || fixture->FindUser(opt.user)->token.empty()) {
    std::cerr << "kproxy-sim: fixture has no user \"" << opt.user << "\" with a token\n";
    return 2;
  }
  fs::path dir = opt.dir.empty()
                     ? fs::temp_directory_path() / ("kproxy-sim-" + std::to_string(getuid()))
                     : fs::path(opt.dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  chmod(dir.c_str(), 0700);
  dir = fs::absolute(dir);
  fs::remove(dir / "ready", ec);

  // Signals are taken by sigwait below; block them before any thread starts.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto pki = GeneratePki();
  if (!pki) {
    std::cerr << "kproxy-sim: " << pki.error().message << "\n";
    return 1;
  }
  if (Status s = WritePki(*pki, dir); !s) {
    std::cerr << "kproxy-sim: " << s.error().message << "\n";
    return 1;
  }
  auto api_ctx = MakeServerContext(*pki, faults->h2_only ? AlpnMode::kH2Only : AlpnMode::kHttp11);
  auto proxy_ctx = MakeServerContext(*pki, AlpnMode::kHttp11);
  auto client_ctx = MakeClientContext(pki->ca_cert_pem);
  if (!api_ctx || !proxy_ctx || !client_ctx) {
    std::cerr << "kproxy-sim: cannot build TLS contexts\n";
    return 1;
  }

  ApiServer api(*fixture, *faults);
  streaming::StreamingConfig streaming_config;
  streaming_config.work_dir = dir.string();  // container commands run in the sim's directory
  api.set_streaming_handler(streaming::MakeStreamingHandler(streaming_config));
  ServerOptions api_opts;
  api_opts.port = opt.api_port;
  api_opts.tls = *api_ctx;
  api_opts.faults = *faults;
  HttpServer api_server(
      api_opts, [&api](const HttpRequest& r, const std::string& b, const RequestContext& c) {
        HttpResponse resp = api.Handle(r, b, c);
        AccessLog("api", r, resp);
        return resp;
      });
  auto api_port = api_server.Start();
  if (!api_port) {
    std::cerr << "kproxy-sim: " << api_port.error().message << "\n";
    return 1;
  }
  std::string api_url = "https://127.0.0.1:" + std::to_string(*api_port);
  api.set_address("127.0.0.1:" + std::to_string(*api_port));

  SessionStore sessions;
  std::atomic<bool> stopping{false};
  std::vector<RouteInstance> routes;
  if (opt.proxy) {
    for (const ProxyRoute& route : fixture->proxy.routes) {
      RouteInstance ri;
      ri.name = route.name;
      ri.proxy = std::make_unique<AccessProxy>(&*fixture, route, &sessions,
                                               UpstreamTarget{"127.0.0.1", *api_port, *client_ctx});
      ri.proxy->set_stop_flag(&stopping);
      ServerOptions popts;
      popts.tls = *proxy_ctx;
      AccessProxy* p = ri.proxy.get();
      ri.server = std::make_unique<HttpServer>(
          popts, [p](const HttpRequest& r, const std::string& b, const RequestContext& c) {
            HttpResponse resp = p->Handle(r, b, c);
            AccessLog("proxy", r, resp);
            return resp;
          });
      auto port = ri.server->Start();
      if (!port) {
        std::cerr << "kproxy-sim: " << port.error().message << "\n";
        return 1;
      }
      ri.url = "https://127.0.0.1:" + std::to_string(*port);
      ri.proxy->set_public_url(ri.url);
      routes.push_back(std::move(ri));
    }
  }

  fs::path kubeconfig = dir / "kubeconfig";
  nlohmann::json info = {{"pid", getpid()},
                         {"apiServer", api_url},
                         {"apiPort", *api_port},
                         {"kubeconfig", kubeconfig.string()},
                         {"caFile", (dir / "ca.crt").string()},
                         {"fixture", fs::absolute(fixture_path).string()},
                         {"faults", FaultNames(*faults)},
                         {"proxies", nlohmann::json::array()}};
  for (const RouteInstance& r : routes) {
    info["proxies"].push_back({{"name", r.name},
                               {"url", r.url},
                               {"port", std::stoi(r.url.substr(r.url.rfind(':') + 1))}});
  }
  if (!WriteFileAtomic(kubeconfig,
                       Kubeconfig(*fixture, pki->ca_cert_pem, api_url, routes, &sessions, opt.user),
                       0600) ||
      !WriteFileAtomic(dir / "sim.json", info.dump(2) + "\n", 0600) ||
      !WriteFileAtomic(dir / "ready", "ok\n", 0600)) {
    std::cerr << "kproxy-sim: cannot write into " << dir << "\n";
    return 1;
  }
  std::cout << "kproxy-sim: API server on " << api_url;
  if (!FaultNames(*faults).empty()) {
    std::cout << " (faults:";
    for (const std::string& f : FaultNames(*faults)) std::cout << " " << f;
    std::cout << ")";
  }
  std::cout << "\n";
  for (const RouteInstance& r : routes) {
    std::cout << "kproxy-sim: access proxy route \"" << r.name << "\" on " << r.url << "\n";
  }
  std::cout << "kproxy-sim: wrote " << kubeconfig.string() << " and " << (dir / "sim.json").string()
            << "\n\n  export KUBECONFIG=" << kubeconfig.string() << "\n  kubectl get pods"
            << (routes.empty() ? "" : "\n  kubectl --context proxy get pods")
            << "\n\nStop with Ctrl-C or: kproxy-sim down --dir " << dir.string() << "\n"
            << std::flush;

  int sig = 0;
  sigwait(&sigs, &sig);
  stopping = true;
  for (RouteInstance& r : routes) r.server->Stop();
  api_server.Stop();
  fs::remove(dir / "ready", ec);
  fs::remove(dir / "sim.json", ec);
  SSL_CTX_free(*api_ctx);
  SSL_CTX_free(*proxy_ctx);
  SSL_CTX_free(*client_ctx);
  std::cout << "kproxy-sim: stopped\n";
  return 0;
}

int Down(const std::string& dir_arg) {
  fs::path dir = dir_arg.empty()
                     ? fs::temp_directory_path() / ("kproxy-sim-" + std::to_string(getuid()))
                     : fs::path(dir_arg);
  std::ifstream in(dir / "sim.json");
  nlohmann::json info = nlohmann::json::parse(in, nullptr, false);
  if (!info.is_object() || !info.contains("pid") || !info["pid"].is_number_integer()) {
    std::cerr << "kproxy-sim: no running simulator in " << dir.string() << "\n";
    return 1;
  }
  pid_t pid = info["pid"].get<pid_t>();
  if (pid <= 1 || kill(pid, SIGTERM) != 0) {
    std::cerr << "kproxy-sim: simulator (pid " << pid << ") is not running\n";
    return 1;
  }
  for (int i = 0; i < 100; ++i) {
    if (kill(pid, 0) != 0 || !fs::exists(dir / "sim.json")) {
      std::cout << "kproxy-sim: stopped pid " << pid << "\n";
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::cerr << "kproxy-sim: pid " << pid << " did not stop within 10s\n";
  return 1;
}

}  // namespace

int RunSim(const std::vector<std::string>& args) {
  CLI::App app{"kproxy-sim: a local Kubernetes API server simulator and access-proxy emulator"};
  app.require_subcommand(1);
  UpOptions up;
  CLI::App* up_cmd = app.add_subcommand("up", "start the simulator and write a kubeconfig");
  up_cmd->add_option("--dir", up.dir, "state directory (kubeconfig, certificates, sim.json)");
  up_cmd->add_option("--fixture", up.fixture, "fixture YAML (default tests/data/sim/default.yaml)");
  up_cmd->add_flag("--proxy", up.proxy, "also start the access-proxy emulator");
  up_cmd->add_option("--fault", up.faults,
                     "fault mode: ws-forbidden, no-v5, strip-upgrade, rbac-ws-get, rbac-both, "
                     "h2-only, expired, drop-after=N, delay=MS, slow-reader");
  up_cmd->add_option("--port", up.api_port, "API server port (default: a free one)");
  up_cmd->add_option("--user", up.user, "fixture user of the default context");
  up_cmd->add_option("-v,--v", up.verbosity, "log level (1: one line per request)");
  std::string down_dir;
  CLI::App* down_cmd = app.add_subcommand("down", "stop a simulator started with up");
  down_cmd->add_option("--dir", down_dir, "state directory given to up");
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (up_cmd->parsed()) {
    SetVerbosity(up.verbosity);
    return Up(up);
  }
  return Down(down_dir);
}

}  // namespace kproxy::sim
