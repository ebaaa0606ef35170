// Upgrade request building and 101 validation, checked against kubectl's recorded requests and
// the independent servers' recorded 101s (../shared/vectors/*.request.json / *.response.txt).
#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/transport/http_request_parser.h"
#include "core/transport/http_response_parser.h"
#include "core/transport/http_upgrade.h"
#include "tests/support/test_env.h"
#include "tests/support/transcript.h"

namespace kproxy::http {
namespace {

using test::ReadFileOrDie;
using test::VectorsDir;

HttpResponse ParseResponse(const std::string& bytes) {
  HttpResponseParser p;
  REQUIRE(p.Feed(bytes).ok());
  REQUIRE(p.done());
  return p.response();
}

HttpRequest ParseRequest(const std::string& bytes) {
  HttpRequestParser p;
  REQUIRE(p.Feed(bytes).ok());
  REQUIRE(p.done());
  return p.request();
}

std::array<uint8_t, 16> KeyBytes(const std::string& b64) {
  unsigned char buf[32];
  const int n = EVP_DecodeBlock(buf, reinterpret_cast<const unsigned char*>(b64.data()),
                                static_cast<int>(b64.size()));
  REQUIRE(n == 18);  // 16 bytes + 2 padding zeros
  std::array<uint8_t, 16> out{};
  std::copy(buf, buf + 16, out.begin());
  return out;
}

// Splits a comma-joined header value the way a server reads it.
std::vector<std::string> SplitList(const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    if (comma == std::string::npos) comma = v.size();
    out.emplace_back(TrimOws(std::string_view(v).substr(start, comma - start)));
    start = comma + 1;
  }
  return out;
}

const char* const kWsVectors[] = {"ws-v5-exec-stdin-exit7.kubectl-1.33",
                                  "ws-v5-exec-success.kubectl-1.33",
                                  "ws-v5-exec-tty-resize-exit5.kubectl-1.33"};
const char* const kSpdyVectors[] = {"spdy-exec-stdin-exit7.kubectl-1.28",
                                    "spdy-exec-tty-resize-exit5.kubectl-1.28",
                                    "spdy-portforward-http-get.kubectl-1.28"};

}  // namespace

TEST_CASE("http upgrade: query escaping and exec query like kubectl") {
  CHECK(QueryEscape("cat; echo to-err >&2; exit 7") == "cat%3B+echo+to-err+%3E%262%3B+exit+7");
  CHECK(QueryEscape("a-b_c.d~e/f") == "a-b_c.d~e%2Ff");
  CHECK(QueryEscape("\xC3\xA9") == "%C3%A9");
  ExecQuery q;
  q.command = {"sh", "-c", "cat; echo to-err >&2; exit 7"};
  q.container = "main";
  q.use_stdin = q.use_stdout = q.use_stderr = true;
  CHECK(BuildExecQuery(q) ==
        "command=sh&command=-c&command=cat%3B+echo+to-err+%3E%262%3B+exit+7&container=main&"
        "stderr=true&stdin=true&stdout=true");
  ExecQuery tty;
  tty.command = {"sh"};
  tty.container = "main";
  tty.use_stdin = tty.use_stdout = tty.tty = true;
  CHECK(BuildExecQuery(tty) == "command=sh&container=main&stdin=true&stdout=true&tty=true");
  ExecQuery none;  // booleans only when true, no container when empty
  none.command = {"ls"};
  CHECK(BuildExecQuery(none) == "command=ls");
}

TEST_CASE("http upgrade: RFC 6455 1.3 accept key example") {
  CHECK(WebSocketAcceptFor("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  std::array<uint8_t, 16> bytes{};
  for (size_t i = 0; i < 16; ++i) bytes[i] = static_cast<uint8_t>("the sample nonce"[i]);
  CHECK(WebSocketKeyFromBytes(bytes) == "dGhlIHNhbXBsZSBub25jZQ==");
}

TEST_CASE("http upgrade: kubectl WebSocket vectors - 101 validates, our request matches") {
  for (const char* name : kWsVectors) {
    CAPTURE(name);
    auto req =
        nlohmann::json::parse(ReadFileOrDie(VectorsDir() / (std::string(name) + ".request.json")));
    const std::string raw = ReadFileOrDie(VectorsDir() / (std::string(name) + ".response.txt"));
    const std::string key = req["headers"]["sec-websocket-key"];
    const std::vector<std::string> offered = {"v5.channel.k8s.io"};

    // The independent server's 101, parsed whole and byte by byte.
    for (const auto& parts : {test::SplitWhole(raw), test::SplitBytewise(raw)}) {
      HttpResponseParser p;
      for (const auto& part : parts) REQUIRE(p.Feed(part).ok());
      REQUIRE(p.done());
      CHECK(p.response().status == 101);
      auto chosen = ValidateWebSocketUpgrade(p.response(), key, offered);
      REQUIRE(chosen.ok());
      CHECK(*chosen == "v5.channel.k8s.io");
      CHECK(p.TakeLeftover().empty());
    }
    // A different key must not validate against the same 101.
    CHECK(!ValidateWebSocketUpgrade(ParseResponse(raw), "AAAAAAAAAAAAAAAAAAAAAA==", offered).ok());

    // Our request with the same inputs.
    UpgradeRequestParams params;
    params.host = req["headers"]["host"];
    params.target = req["url"];
    params.user_agent = req["headers"]["user-agent"];
    params.protocols = offered;
    params.extra_headers = {{"Authorization", "Bearer REDACTED"}};
    auto built = BuildWebSocketUpgradeRequest(params, WebSocketKeyFromBytes(KeyBytes(key)));
    REQUIRE(built.ok());
    HttpRequest ours = ParseRequest(*built);
    CHECK(ours.method == req["method"]);
    CHECK(ours.target == req["url"]);
    for (const char* h : {"host", "user-agent", "authorization", "connection", "upgrade",
                          "sec-websocket-key", "sec-websocket-protocol", "sec-websocket-version"}) {
      CAPTURE(h);
      CHECK(ours.headers.Get(h) == req["headers"][h].get<std::string>());
      CHECK(ours.headers.GetAll(h).size() == 1);
    }
    CHECK(ours.headers.Get("accept") == "application/json, */*");
  }
}

TEST_CASE("http upgrade: kubectl SPDY vectors - 101 validates, our request matches") {
  for (const char* name : kSpdyVectors) {
    CAPTURE(name);
    auto req =
        nlohmann::json::parse(ReadFileOrDie(VectorsDir() / (std::string(name) + ".request.json")));
    const std::string raw = ReadFileOrDie(VectorsDir() / (std::string(name) + ".response.txt"));
    const std::vector<std::string> offered =
        SplitList(req["headers"]["x-stream-protocol-version"].get<std::string>());
    auto chosen = ValidateSpdyUpgrade(ParseResponse(raw), offered);
    REQUIRE(chosen.ok());
    CHECK(*chosen == offered[0]);

    UpgradeRequestParams params;
    params.host = req["headers"]["host"];
    params.target = req["url"];
    params.user_agent = req["headers"]["user-agent"];
    params.protocols = offered;
    auto built = BuildSpdyUpgradeRequest(params);
    REQUIRE(built.ok());
    HttpRequest ours = ParseRequest(*built);
    CHECK(ours.method == "POST");
    CHECK(ours.target == req["url"]);
    for (const char* h : {"host", "user-agent", "connection", "upgrade", "content-length"}) {
      CAPTURE(h);
      CHECK(ours.headers.Get(h) == req["headers"][h].get<std::string>());
    }
    // One line per version; joined they equal what the recording server saw.
    auto lines = ours.headers.GetAll("x-stream-protocol-version");
    CHECK(lines == offered);
  }
}

TEST_CASE("http upgrade: WebSocket request has exactly one comma-joined protocol line") {
  UpgradeRequestParams p;
  p.host = "h:6443";
  p.target = "/api/v1/namespaces/ns/pods/p/exec?command=ls&stdout=true";
  p.user_agent = "kproxy/0.1.0 (linux/amd64) kubernetes/unknown";
  p.protocols = {"v5.channel.k8s.io", "v4.channel.k8s.io"};
  p.extra_headers = {
      {"Impersonate-User", "alice"}, {"Impersonate-Group", "dev"}, {"Impersonate-Group", "ops"}};
  auto built = BuildWebSocketUpgradeRequest(p, "dGhlIHNhbXBsZSBub25jZQ==");
  REQUIRE(built.ok());
  CHECK(built->rfind("GET /api/v1/namespaces/ns/pods/p/exec?command=ls&stdout=true HTTP/1.1\r\n",
                     0) == 0);
  CHECK(built->find("\r\nSec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io\r\n") !=
        std::string::npos);
  CHECK(built->find("\r\nSec-WebSocket-Version: 13\r\n") != std::string::npos);
  CHECK(built->find("Impersonate-Group: dev\r\nImpersonate-Group: ops\r\n") != std::string::npos);
  CHECK(built->size() >= 4);
  CHECK(built->substr(built->size() - 4) == "\r\n\r\n");

  // Header injection is refused, not sent.
  p.extra_headers = {{"Authorization", "Bearer x\r\nEvil: 1"}};
  auto bad = BuildWebSocketUpgradeRequest(p, "k");
  REQUIRE(!bad.ok());
  CHECK(bad.error().code == ErrorCode::kUsage);
  p.extra_headers = {{"Bad Name", "v"}};
  CHECK(!BuildSpdyUpgradeRequest(p).ok());
  p.extra_headers = {};
  p.user_agent = "curl/8.0";  // access proxies would answer HTML
  CHECK(!BuildSpdyUpgradeRequest(p).ok());
  p.user_agent = DefaultUserAgent("0.1.0", "abc123");
  CHECK(p.user_agent.rfind("kproxy/0.1.0 (", 0) == 0);
  CHECK(p.user_agent.find(") kubernetes/abc123") != std::string::npos);
  CHECK(BuildSpdyUpgradeRequest(p).ok());
  p.protocols = {};
  CHECK(!BuildSpdyUpgradeRequest(p).ok());
}

TEST_CASE("http upgrade: WebSocket 101 validation failures are upgrade rejections") {
  const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
  const std::string accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
  const std::vector<std::string> offered = {"v5.channel.k8s.io", "v4.channel.k8s.io"};
  auto resp = [&](const std::string& fields) {
    return ParseResponse("HTTP/1.1 101 Switching Protocols\r\n" + fields + "\r\n");
  };
  const std::string good_base = "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n";
  auto ok = ValidateWebSocketUpgrade(resp(good_base + "Sec-WebSocket-Accept: " + accept +
                                          "\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n"),
                                     key, offered);
  REQUIRE(ok.ok());
  CHECK(*ok == "v4.channel.k8s.io");
  const std::vector<std::string> bad = {
      good_base + "Sec-WebSocket-Accept: " + accept + "\r\n",  // no subprotocol
      good_base + "Sec-WebSocket-Accept: " + accept + "\r\nSec-WebSocket-Protocol: \r\n",
      good_base + "Sec-WebSocket-Accept: " + accept +
          "\r\nSec-WebSocket-Protocol: base64.channel.k8s.io\r\n",  // not offered
      good_base + "Sec-WebSocket-Accept: x" + accept +
          "\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n",
      "Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept +
          "\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n",  // no Upgrade
      "Upgrade: websocket\r\nSec-WebSocket-Accept: " + accept +
          "\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n",  // no Connection
  };
  for (const auto& fields : bad) {
    CAPTURE(fields);
    auto r = ValidateWebSocketUpgrade(resp(fields), key, offered);
    REQUIRE(!r.ok());
    CHECK(r.error().code == ErrorCode::kUpgradeRejected);
  }
  auto refused = ValidateWebSocketUpgrade(
      ParseResponse("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"), key, offered);
  REQUIRE(!refused.ok());
  CHECK(refused.error().code == ErrorCode::kUpgradeRejected);
}

TEST_CASE("http upgrade: SPDY 101 without version means channel.k8s.io") {
  const std::vector<std::string> offered = {"v4.channel.k8s.io", "channel.k8s.io"};
  auto r = ValidateSpdyUpgrade(
      ParseResponse("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: "
                    "SPDY/3.1\r\n\r\n"),
      offered);
  REQUIRE(r.ok());
  CHECK(*r == "channel.k8s.io");
  auto not_offered = ValidateSpdyUpgrade(
      ParseResponse("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: "
                    "SPDY/3.1\r\n\r\n"),
      {"v4.channel.k8s.io"});
  CHECK(!not_offered.ok());
  auto wrong = ValidateSpdyUpgrade(
      ParseResponse("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: "
                    "websocket\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n"),
      offered);
  CHECK(!wrong.ok());
}

TEST_CASE("http upgrade: server-side 101 builders satisfy the client validators") {
  const std::string key =
      WebSocketKeyFromBytes({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  auto r = ValidateWebSocketUpgrade(ParseResponse(BuildWebSocketAccept(key, "v5.channel.k8s.io")),
                                    key, {"v5.channel.k8s.io"});
  CHECK(r.ok());
  CHECK(!ValidateWebSocketUpgrade(ParseResponse(BuildWebSocketAccept(key, "")), key,
                                  {"v5.channel.k8s.io"})
             .ok());
  auto s = ValidateSpdyUpgrade(ParseResponse(BuildSpdyAccept("portforward.k8s.io")),
                               {"portforward.k8s.io"});
  REQUIRE(s.ok());
  CHECK(*s == "portforward.k8s.io");
  // The recorded SPDY 101 byte for byte.
  CHECK(BuildSpdyAccept("v4.channel.k8s.io") ==
        ReadFileOrDie(VectorsDir() / "spdy-exec-stdin-exit7.kubectl-1.28.response.txt"));
  HttpResponse err = ParseResponse(
      BuildErrorResponse(403, "", "text/plain", "unable to upgrade: unable to negotiate protocol"));
  CHECK(err.status == 403);
  CHECK(err.reason == "Forbidden");
  CHECK(err.headers.Get("content-type") == "text/plain");
  CHECK(err.body == "unable to upgrade: unable to negotiate protocol");
}

}  // namespace kproxy::http
