#include <doctest/doctest.h>

#include <map>
#include <string>

#include "core/transport/proxy_config.h"
#include "core/transport/proxy_connect.h"
#include "tests/support/transcript.h"

namespace kproxy {
namespace {

using State = ConnectReplyParser::State;

std::vector<std::vector<std::string>> AllSplits(const std::string& bytes) {
  std::vector<std::vector<std::string>> out = {test::SplitWhole(bytes), test::SplitBytewise(bytes)};
  for (uint32_t seed = 1; seed <= 20; ++seed) out.push_back(test::SplitRandom(bytes, seed));
  return out;
}

State FeedAll(ConnectReplyParser& p, const std::vector<std::string>& pieces) {
  State s = State::kNeedMore;
  for (const auto& piece : pieces) s = p.Feed(piece);
  return s;
}

TEST_CASE("proxy connect: request text (RFC 9110 9.3.6 authority-form)") {
  CHECK(BuildConnectRequest("api.example.com", 6443, "") ==
        "CONNECT api.example.com:6443 HTTP/1.1\r\nHost: api.example.com:6443\r\n\r\n");
  CHECK(BuildConnectRequest("::1", 443, "Basic dTpw") ==
        "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\nProxy-Authorization: Basic dTpw\r\n\r\n");
}

TEST_CASE("proxy connect: 200 reply in every split, leftover kept") {
  // tinyproxy's actual reply head.
  const std::string reply =
      "HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy/1.11.1\r\n\r\n\x16\x03";
  for (const auto& pieces : AllSplits(reply)) {
    ConnectReplyParser p;
    CHECK(FeedAll(p, pieces) == State::kDone);
    CHECK(p.status() == 200);
    CHECK(p.reason() == "Connection established");
    CHECK(p.leftover() == "\x16\x03");
  }
}

TEST_CASE("proxy connect: refusals keep the status") {
  ConnectReplyParser p;
  CHECK(p.Feed("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n") ==
        State::kDone);
  CHECK(p.status() == 407);
  ConnectReplyParser q;
  CHECK(q.Feed("HTTP/1.1 403\r\n\r\n") == State::kDone);
  CHECK(q.status() == 403);
  CHECK(q.reason().empty());
}

TEST_CASE("proxy connect: malformed replies fail and stay failed") {
  for (const char* bad :
       {"SSH-2.0-OpenSSH_9\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n",
        "HTTP/2 200\r\n\r\n", "HTTP/1.1 099 x\r\n\r\n", "\r\n\r\n"}) {
    for (const auto& pieces : AllSplits(bad)) {
      ConnectReplyParser p;
      CHECK(FeedAll(p, pieces) == State::kError);
      CHECK(p.Feed("HTTP/1.1 200 OK\r\n\r\n") == State::kError);
    }
  }
}

TEST_CASE("proxy connect: an endless head is cut at 16 KiB") {
  ConnectReplyParser p;
  CHECK(p.Feed("HTTP/1.1 200 OK\r\n") == State::kNeedMore);
  State s = State::kNeedMore;
  for (int i = 0; i < 2000 && s == State::kNeedMore; ++i) s = p.Feed("X-Filler: 0123456789\r\n");
  CHECK(s == State::kError);
}

TEST_CASE("server URL parsing") {
  auto a = ParseServerUrl("https://api.example.com:6443/prefix");
  REQUIRE(a.ok());
  CHECK(a->host == "api.example.com");
  CHECK(a->port == 6443);
  CHECK(a->path == "/prefix");
  auto b = ParseServerUrl("http://[::1]");
  REQUIRE(b.ok());
  CHECK(b->host == "::1");
  CHECK(b->port == 80);
  CHECK(b->Authority() == "[::1]:80");
  CHECK(ParseServerUrl("https://h")->port == 443);
  CHECK_FALSE(ParseServerUrl("ftp://h").ok());
  CHECK_FALSE(ParseServerUrl("https://h:0").ok());
  CHECK_FALSE(ParseServerUrl("https://h:99999").ok());
  CHECK_FALSE(ParseServerUrl("api:443").ok());
  CHECK_FALSE(ParseServerUrl("https://u:p@h").ok());
}

struct FakeEnv {
  std::map<std::string, std::string> vars;
  GetEnvFn fn() {
    return [this](const char* k) -> const char* {
      auto it = vars.find(k);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

TEST_CASE("proxy choice: kubeconfig proxy-url wins, even for loopback") {
  FakeEnv env;
  env.vars["HTTPS_PROXY"] = "http://envproxy:3128";
  auto target = *ParseServerUrl("https://127.0.0.1:6443");
  auto c = ChooseProxy("http://user:p%40ss@proxy.local:8888", target, env.fn());
  REQUIRE(c.ok());
  REQUIRE(c->has_value());
  CHECK((*c)->host == "proxy.local");
  CHECK((*c)->port == 8888);
  CHECK((*c)->authorization == "Basic dXNlcjpwQHNz");  // base64("user:p@ss")
}

TEST_CASE("proxy choice: environment with NO_PROXY (Go httpproxy rules)") {
  FakeEnv env;
  env.vars["https_proxy"] = "proxy:3128";  // no scheme means http://
  env.vars["NO_PROXY"] = "internal.corp, .svc, 10.0.0.0/8, 192.168.1.5, api.other:6443";
  auto pick = [&](const std::string& url) {
    auto r = ChooseProxy("", *ParseServerUrl(url), env.fn());
    REQUIRE(r.ok());
    return r->has_value();
  };
  CHECK(pick("https://api.example.com"));
  CHECK((*ChooseProxy("", *ParseServerUrl("https://a.b"), env.fn()))->port == 3128);
  CHECK_FALSE(pick("https://internal.corp"));
  CHECK_FALSE(pick("https://k8s.internal.corp"));
  CHECK_FALSE(pick("https://kubernetes.default.svc"));
  CHECK(pick("https://svc"));  // ".svc" matches subdomains only
  CHECK_FALSE(pick("https://10.1.2.3"));
  CHECK(pick("https://11.1.2.3"));
  CHECK_FALSE(pick("https://192.168.1.5:443"));
  CHECK_FALSE(pick("https://api.other:6443"));
  CHECK(pick("https://api.other:443"));
  CHECK_FALSE(pick("https://localhost:6443"));  // loopback never uses an env proxy
  CHECK_FALSE(pick("https://127.0.0.1:6443"));
  CHECK_FALSE(pick("http://api.example.com"));  // http targets read HTTP_PROXY only
  env.vars["NO_PROXY"] = "*";
  CHECK_FALSE(pick("https://api.example.com"));
}

TEST_CASE("proxy choice: unsupported proxy schemes are a config error") {
  FakeEnv env;
  auto target = *ParseServerUrl("https://api.example.com");
  auto s = ChooseProxy("socks5://127.0.0.1:1080", target, env.fn());
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kConfig);
  CHECK(s.error().message.find("socks5") != std::string::npos);
  CHECK_FALSE(ChooseProxy("https://proxy:443", target, env.fn()).ok());
  CHECK_FALSE(ChooseProxy("http://proxy:notaport", target, env.fn()).ok());
}

}  // namespace
}  // namespace kproxy
