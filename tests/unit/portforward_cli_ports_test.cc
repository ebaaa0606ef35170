// port-forward argument handling: kubectl's [LOCAL:]REMOTE forms, --address rules, named and
// service ports, listeners with kubectl's failure rules, and the CLI's usage errors.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/command.h"
#include "core/base/exit_code.h"
#include "core/portforward/forwarder_ports.h"
#include "core/portforward/listener.h"

namespace kproxy::portforward {
namespace {

using nlohmann::json;

TEST_CASE("port-forward: [LOCAL:]REMOTE specs as kubectl parses them") {
  auto a = ParsePortSpec("8888:5000");
  REQUIRE(a.ok());
  CHECK(a->local == 8888);
  CHECK(a->remote == "5000");
  CHECK_FALSE(a->local_from_remote);

  auto random = ParsePortSpec(":5000");
  REQUIRE(random.ok());
  CHECK(random->local == 0);
  CHECK(random->remote == "5000");

  auto same = ParsePortSpec("5000");
  REQUIRE(same.ok());
  CHECK(same->local == 5000);
  CHECK(same->local_from_remote);

  auto named = ParsePortSpec("8080:http");
  REQUIRE(named.ok());
  CHECK(named->local == 8080);
  CHECK(named->remote == "http");

  auto bare_name = ParsePortSpec("http");
  REQUIRE(bare_name.ok());
  CHECK(bare_name->local_from_remote);
  CHECK(bare_name->remote == "http");
}

TEST_CASE("port-forward: malformed specs fail with kubectl's messages") {
  auto three = ParsePortSpec("1:2:3");
  REQUIRE_FALSE(three.ok());
  CHECK(three.error().message == "invalid port format '1:2:3'");
  CHECK(three.error().code == ErrorCode::kUsage);

  auto zero = ParsePortSpec("8888:0");
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.error().message == "remote port must be > 0");

  auto big = ParsePortSpec("70000:80");
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().message.rfind("error parsing local port '70000'", 0) == 0);
  CHECK(big.error().message.find("value out of range") != std::string::npos);

  auto bad_local = ParsePortSpec("x1:80");
  REQUIRE_FALSE(bad_local.ok());
  CHECK(bad_local.error().message.find("invalid syntax") != std::string::npos);

  CHECK_FALSE(ParsePortSpec("8888:").ok());
  CHECK_FALSE(ParsePortSpec("").ok());
  CHECK_FALSE(ParsePortSpec("99999").ok());
}

TEST_CASE("port-forward: --address expands localhost and checks IP literals") {
  auto def = ParseAddresses({"localhost"});
  REQUIRE(def.ok());
  REQUIRE(def->size() == 2);
  CHECK((*def)[0].ip == "127.0.0.1");
  CHECK_FALSE((*def)[0].v6);
  CHECK((*def)[0].all_must_fail);
  CHECK((*def)[1].ip == "::1");
  CHECK((*def)[1].v6);

  auto list = ParseAddresses({"127.0.0.1,::1", "0.0.0.0"});
  REQUIRE(list.ok());
  REQUIRE(list->size() == 3);
  CHECK_FALSE((*list)[0].all_must_fail);
  CHECK((*list)[1].v6);
  CHECK((*list)[2].ip == "0.0.0.0");

  auto bad = ParseAddresses({"example.com"});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "example.com is not a valid IP");

  CHECK(JoinHostPort("127.0.0.1", 8888) == "127.0.0.1:8888");
  CHECK(JoinHostPort("::1", 8888) == "[::1]:8888");
}

json Pod() {
  return json::parse(R"({"metadata":{"name":"web-0"},"spec":{"containers":[
    {"name":"a","ports":[{"name":"http","containerPort":8080},{"name":"metrics","containerPort":9090}]}]},
    "status":{"phase":"Running"}})");
}

TEST_CASE("port-forward: named pod ports resolve, local defaults to the container port") {
  std::vector<PortSpec> specs = {*ParsePortSpec("http"), *ParsePortSpec("7000:metrics"),
                                 *ParsePortSpec(":5000")};
  auto r = ResolveForwardedPorts(specs, Pod(), json());
  REQUIRE(r.ok());
  REQUIRE(r->size() == 3);
  CHECK((*r)[0].local == 8080);
  CHECK((*r)[0].remote == 8080);
  CHECK((*r)[1].local == 7000);
  CHECK((*r)[1].remote == 9090);
  CHECK((*r)[2].local == 0);
  CHECK((*r)[2].remote == 5000);

  auto missing = ResolveForwardedPorts({*ParsePortSpec("grpc")}, Pod(), json());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message == "Pod 'web-0' does not have a named port 'grpc'");
}

TEST_CASE("port-forward: svc/ ports map to target container ports; headless keeps the port") {
  json svc = json::parse(R"({"metadata":{"name":"web"},"spec":{"clusterIP":"10.0.0.1","ports":[
    {"name":"web","port":80,"targetPort":"http"},{"name":"m","port":9000,"targetPort":9090},
    {"name":"plain","port":7777}]}})");
  std::vector<PortSpec> specs = {*ParsePortSpec("80"), *ParsePortSpec("web"),
                                 *ParsePortSpec("1234:m"), *ParsePortSpec("7777")};
  auto r = ResolveForwardedPorts(specs, Pod(), svc);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 4);
  // kubectl keeps the service port locally and forwards to the target container port.
  CHECK((*r)[0].local == 80);
  CHECK((*r)[0].remote == 8080);
  CHECK((*r)[1].local == 80);
  CHECK((*r)[1].remote == 8080);
  CHECK((*r)[2].local == 1234);
  CHECK((*r)[2].remote == 9090);
  CHECK((*r)[3].local == 7777);
  CHECK((*r)[3].remote == 7777);

  auto unknown = ResolveForwardedPorts({*ParsePortSpec("81")}, Pod(), svc);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message == "Service web does not have a service port 81");

  json headless = json::parse(R"({"metadata":{"name":"h"},"spec":{"clusterIP":"None"}})");
  auto h = ResolveForwardedPorts({*ParsePortSpec("5432")}, Pod(), headless);
  REQUIRE(h.ok());
  CHECK((*h)[0].remote == 5432);
  CHECK((*h)[0].local == 5432);
}

TEST_CASE("port-forward listeners: random port shared by both localhost addresses") {
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  auto addrs = ParseAddresses({"localhost"});
  REQUIRE(addrs.ok());
  std::vector<int> accepted;
  auto ls = ListenOnPort(**loop, *addrs, 0, [&](int fd) { accepted.push_back(fd); });
  REQUIRE(ls.ok());
  REQUIRE_FALSE(ls->empty());
  uint16_t port = (*ls)[0]->port();
  CHECK(port != 0);
  for (const auto& l : *ls) CHECK(l->port() == port);

  int c = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  CHECK((*loop)->RunUntil([&] { return !accepted.empty(); }, std::chrono::milliseconds(3000)));
  for (int fd : accepted) ::close(fd);
  ::close(c);

  // The port is taken now: an explicit address fails the whole forward at once.
  auto taken = ListenOnPort(**loop, {{"127.0.0.1", false, false}}, port, [](int) {});
  REQUIRE_FALSE(taken.ok());
  CHECK(taken.error().message.rfind("unable to listen on port " + std::to_string(port) + ": [",
                                    0) == 0);
  CHECK(taken.error().message.find("address already in use") != std::string::npos);
}

TEST_CASE("port-forward listeners: localhost fails only when every address failed") {
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  // Hold 127.0.0.1:P; localhost (127.0.0.1 + ::1) may still listen on ::1 when IPv6 exists.
  auto first = ListenOnPort(**loop, {{"127.0.0.1", false, false}}, 0, [](int) {});
  REQUIRE(first.ok());
  uint16_t port = (*first)[0]->port();
  auto both = ListenOnPort(**loop, *ParseAddresses({"localhost"}), port, [](int) {});
  int v6 = ::socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 a6{};
  a6.sin6_family = AF_INET6;
  a6.sin6_addr = in6addr_loopback;
  bool have_v6 = v6 >= 0 && ::bind(v6, reinterpret_cast<sockaddr*>(&a6), sizeof a6) == 0;
  if (v6 >= 0) ::close(v6);
  if (have_v6) {
    REQUIRE(both.ok());
    CHECK(both->size() == 1);
    CHECK((*both)[0]->address().ip == "::1");
  } else {
    CHECK_FALSE(both.ok());
  }
}

struct CliRun {
  int status;
  std::string out, err;
};

CliRun RunArgs(std::vector<const char*> args) {
  args.insert(args.begin(), "kproxy");
  std::istringstream in;
  std::ostringstream out, err;
  cli::CommandIO io{in, out, err};
  int status = cli::RunCli(static_cast<int>(args.size()), args.data(), io);
  return {status, out.str(), err.str()};
}

TEST_CASE("port-forward CLI: usage errors before any API call") {
  auto none = RunArgs({"port-forward"});
  CHECK(none.status == exit_status::kUsage);
  CHECK(none.err ==
        "error: TYPE/NAME and list of ports are required for port-forward\n"
        "See 'kproxy port-forward -h' for help and examples\n");
  auto no_ports = RunArgs({"port-forward", "pod/web"});
  CHECK(no_ports.status == exit_status::kUsage);
  auto bad_port = RunArgs({"port-forward", "pod/web", "1:2:3"});
  CHECK(bad_port.err == "error: invalid port format '1:2:3'\n");
  CHECK(bad_port.status == ExitStatusFor(ErrorCode::kUsage));
  auto bad_addr = RunArgs({"port-forward", "--address", "nope", "pod/web", "80"});
  CHECK(bad_addr.err == "error: nope is not a valid IP\n");
  auto bad_proto = RunArgs({"port-forward", "--protocol", "quic", "pod/web", "80"});
  CHECK(bad_proto.status == exit_status::kUsage);
  auto help = RunArgs({"port-forward", "--help"});
  CHECK(help.status == 0);
  CHECK(help.out.find("--address") != std::string::npos);
}

}  // namespace
}  // namespace kproxy::portforward
