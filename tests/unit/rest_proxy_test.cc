// The libcurl client through a real HTTP CONNECT proxy (tinyproxy, Debian tinyproxy-bin):
// proxy-url, HTTPS_PROXY from the environment, and NO_PROXY bypass. Checked in the proxy's log.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <thread>

#include "core/rest/http_client.h"
#include "tests/support/https_server.h"
#include "tests/support/test_env.h"

extern char** environ;

namespace kproxy {
namespace {

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), len);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool CanConnect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

// tinyproxy in the foreground on a loopback port, with a generated config; stopped (SIGTERM,
// then SIGKILL) when destroyed.
class Tinyproxy {
 public:
  Tinyproxy() {
    port_ = FreeLoopbackPort();
    log_ = dir_.path() / "tinyproxy.log";
    auto conf = dir_.path() / "tinyproxy.conf";
    std::ofstream(conf) << "Port " << port_ << "\nListen 127.0.0.1\nTimeout 20\n"
                        << "LogFile \"" << log_.string() << "\"\nLogLevel Info\n"
                        << "MaxClients 20\nAllow 127.0.0.1\n";
    std::string c = conf.string();
    const char* argv[] = {"tinyproxy", "-d", "-c", c.c_str(), nullptr};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawnp(&pid_, "tinyproxy", &fa, nullptr, const_cast<char**>(argv), environ);
    posix_spawn_file_actions_destroy(&fa);
    REQUIRE_MESSAGE(rc == 0, "tinyproxy not installed (packaging/install-deps.sh)");
    for (int i = 0; i < 100 && !CanConnect(port_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE_MESSAGE(CanConnect(port_), "tinyproxy did not start listening");
  }
  ~Tinyproxy() {
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const {
    std::ifstream in(log_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // Did the proxy see a CONNECT to this target?
  bool SawConnect(int target_port) const {
    return log().find("CONNECT 127.0.0.1:" + std::to_string(target_port)) != std::string::npos;
  }

 private:
  test::TempDir dir_;
  std::filesystem::path log_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// Sets (or clears) proxy variables for one test, restoring them afterwards.
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (const char* name :
         {"https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"}) {
      const char* old = std::getenv(name);
      saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
      ::unsetenv(name);
    }
    for (const auto& [k, v] : vars) ::setenv(k, v, 1);
  }
  ~ScopedEnv() {
    for (const auto& [k, v] : saved_) {
      if (v) {
        ::setenv(k.c_str(), v->c_str(), 1);
      } else {
        ::unsetenv(k.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

RestConfig ConfigFor(const test::HttpsServer& server) {
  RestConfig c;
  c.server = server.url();
  c.ca_data = test::TestPki::Get().ca.cert;
  c.bearer_token = "through-the-proxy";
  c.timeout = std::chrono::seconds(10);
  return c;
}

Result<HttpResponse> Get(const RestConfig& c) {
  HttpRequest req;
  req.path = "/api/v1/pods";
  return MakeCurlHttpClient(c)->Do(req);
}

test::HttpsServer::Handler Ok() {
  return [](const test::RecordedRequest&) { return test::ScriptedResponse{200, {}, "{}"}; };
}

TEST_CASE("rest proxy: proxy-url sends the request through an HTTP CONNECT proxy") {
  ScopedEnv env({});
  Tinyproxy proxy;
  test::HttpsServer server({}, Ok());
  RestConfig c = ConfigFor(server);
  c.proxy_url = proxy.url();
  auto r = Get(c);
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(proxy.SawConnect(server.port()));
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  // TLS runs end to end through the tunnel: the token reached the server, not the proxy log.
  CHECK(reqs[0].Header("Authorization") == "Bearer through-the-proxy");
  CHECK(proxy.log().find("through-the-proxy") == std::string::npos);
}

TEST_CASE("rest proxy: HTTPS_PROXY from the environment is used, NO_PROXY bypasses it") {
  Tinyproxy proxy;
  test::HttpsServer server({}, Ok());
  RestConfig c = ConfigFor(server);
  {
    ScopedEnv env({{"HTTPS_PROXY", proxy.url().c_str()}});
    REQUIRE(Get(c).ok());
    CHECK(proxy.SawConnect(server.port()));
  }
  test::HttpsServer direct({}, Ok());
  RestConfig d = ConfigFor(direct);
  {
    ScopedEnv env({{"HTTPS_PROXY", proxy.url().c_str()}, {"NO_PROXY", "localhost,127.0.0.1"}});
    REQUIRE(Get(d).ok());
  }
  CHECK(direct.requests().size() == 1);
  CHECK_FALSE(proxy.SawConnect(direct.port()));
}

TEST_CASE("rest proxy: proxy-url wins over the environment; a dead proxy is a clear error") {
  Tinyproxy proxy;
  test::HttpsServer server({}, Ok());
  RestConfig c = ConfigFor(server);
  c.proxy_url = proxy.url();
  {
    // kubectl's proxy-url ignores NO_PROXY (client-go uses http.ProxyURL).
    ScopedEnv env({{"NO_PROXY", "127.0.0.1"}});
    REQUIRE(Get(c).ok());
    CHECK(proxy.SawConnect(server.port()));
  }
  ScopedEnv env({});
  c.proxy_url = "http://127.0.0.1:" + std::to_string(FreeLoopbackPort());
  auto r = Get(c);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(r.error().message.find(server.url()) != std::string::npos);
  CHECK(r.error().message.find("through-the-proxy") == std::string::npos);
}

}  // namespace
}  // namespace kproxy
