// The simulator's request-head parser: every input whole, byte by byte and in random splits;
// malformed heads end in a defined status and the parser stays failed.
#include <doctest/doctest.h>

#include <string>

#include "tests/sim/server/http_request.h"
#include "tests/support/transcript.h"

namespace kproxy::sim {

namespace {

using test::SplitBytewise;
using test::SplitRandom;
using test::SplitWhole;

// A kubectl 1.33 WebSocket exec request head, as it appears on the wire (hand-written from
// the vector ws-v5-exec-stdin-exit7.kubectl-1.33.request.json), followed by stream bytes.
const std::string kExecHead =
    "GET /api/v1/namespaces/default/pods/web/exec?command=sh&command=-c&command=echo+hi%21"
    "&container=web&stdin=true&stdout=true HTTP/1.1\r\n"
    "Host: 127.0.0.1:6443\r\n"
    "User-Agent: kubectl/v1.33.1 (linux/amd64) kubernetes/8adc0f0\r\n"
    "Connection: Upgrade\r\n"
    "Upgrade: websocket\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Protocol: v5.channel.k8s.io,v4.channel.k8s.io\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Authorization: Bearer alice-token\r\n"
    "\r\n";
const std::string kAfter = "\x82\x85stream-bytes";

struct Outcome {
  RequestHeadParser::State state;
  HttpRequest request;
  std::string rest;
  int status = 0;
};

Outcome Run(const std::vector<std::string>& pieces) {
  RequestHeadParser p;
  Outcome out;
  for (const std::string& piece : pieces) {
    size_t used = p.Feed(piece);
    if (p.state() != RequestHeadParser::State::kNeedMore)
      out.rest += piece.substr(used);
    else
      CHECK(used == piece.size());
  }
  out.state = p.state();
  out.request = p.request();
  out.status = p.error_status();
  return out;
}

std::vector<std::vector<std::string>> AllSplits(const std::string& s) {
  return {SplitWhole(s), SplitBytewise(s), SplitRandom(s, 1), SplitRandom(s, 2),
          SplitRandom(s, 99)};
}

}  // namespace

TEST_CASE("request head parser: kubectl exec upgrade request in any split") {
  for (const auto& pieces : AllSplits(kExecHead + kAfter)) {
    Outcome o = Run(pieces);
    REQUIRE(o.state == RequestHeadParser::State::kDone);
    CHECK(o.request.method == "GET");
    CHECK(o.request.path == "/api/v1/namespaces/default/pods/web/exec");
    CHECK(o.request.version == "HTTP/1.1");
    CHECK(o.request.Header("upgrade") == "websocket");
    CHECK(o.request.Header("sec-websocket-protocol") == "v5.channel.k8s.io,v4.channel.k8s.io");
    CHECK(o.request.ConnectionHas("upgrade"));
    CHECK(o.rest == kAfter);  // bytes after the head are left to the caller
    std::vector<std::string> command;
    for (const auto& [k, v] : o.request.query)
      if (k == "command") command.push_back(v);
    CHECK(command == std::vector<std::string>{"sh", "-c", "echo hi!"});
    CHECK(o.request.Query("container") == "web");
    CHECK(o.request.HasQuery("stdin"));
    CHECK_FALSE(o.request.HasQuery("tty"));
  }
}

TEST_CASE("request head parser: repeated headers, LF-only lines, leading empty line") {
  std::string head =
      "\r\nPOST /x HTTP/1.1\nHost: h\nImpersonate-Group: a\nImpersonate-Group: b\n"
      "X-Stream-Protocol-Version: v4.channel.k8s.io\r\nX-Stream-Protocol-Version: "
      "v3.channel.k8s.io\n\n";
  for (const auto& pieces : AllSplits(head)) {
    Outcome o = Run(pieces);
    REQUIRE(o.state == RequestHeadParser::State::kDone);
    CHECK(o.request.Headers("impersonate-group") == std::vector<std::string>{"a", "b"});
    CHECK(o.request.Headers("x-stream-protocol-version").size() == 2);
    CHECK(o.rest.empty());
  }
}

TEST_CASE("request head parser: malformed heads give a defined status and stay failed") {
  struct Case {
    std::string head;
    int status;
  };
  const Case cases[] = {
      {"GET\r\n\r\n", 400},
      {"GET / HTTP/1.1 extra\r\n\r\n", 400},
      {"G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"GET http://x/ HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
      {"GET / SPDY/3\r\nHost: h\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n\r\n", 400},  // no Host
      {"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: h\r\nNo colon here\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: h\r\n: empty\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: h\r\nBad Name: v\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n", 400},
      {"GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"GET /?a=%4 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n", 414},
      {"GET / HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n", 431},
  };
  for (const Case& c : cases) {
    CAPTURE(c.head.substr(0, 60));
    for (const auto& pieces : AllSplits(c.head)) {
      Outcome o = Run(pieces);
      CHECK(o.state == RequestHeadParser::State::kError);
      CHECK(o.status == c.status);
    }
  }
}

TEST_CASE("request head parser: head size and header count limits bound memory") {
  std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 200; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  many += "\r\n";
  CHECK(Run({many}).status == 431);

  std::string big = "GET / HTTP/1.1\r\nHost: h\r\n";
  while (big.size() < 70 * 1024) big += "X-Pad: " + std::string(1000, 'p') + "\r\n";
  RequestHeadParser p;
  p.Feed(big);
  CHECK(p.state() == RequestHeadParser::State::kError);
  CHECK(p.error_status() == 431);
  // Failed parsers consume nothing more.
  CHECK(p.Feed("\r\n\r\n") == 0);
  CHECK(p.state() == RequestHeadParser::State::kError);
}

TEST_CASE("request head parser: incomplete head keeps asking for more") {
  RequestHeadParser p;
  CHECK(p.Feed("GET / HTTP/1.1\r\nHost: h\r\n") == 25);
  CHECK(p.state() == RequestHeadParser::State::kNeedMore);
  CHECK(p.Feed("\r") == 1);
  CHECK(p.state() == RequestHeadParser::State::kNeedMore);
  CHECK(p.Feed("\n") == 1);
  CHECK(p.state() == RequestHeadParser::State::kDone);
}

TEST_CASE("query helpers follow Go's url package") {
  std::string out;
  CHECK(PercentDecode("a%20b+c", true, &out));
  CHECK(out == "a b c");
  CHECK(PercentDecode("a%20b+c", false, &out));
  CHECK(out == "a b+c");
  CHECK_FALSE(PercentDecode("%", true, &out));
  CHECK_FALSE(PercentDecode("%g0", true, &out));
  CHECK(QueryEscape("http://127.0.0.1:8000/cb?state=a b") ==
        "http%3A%2F%2F127.0.0.1%3A8000%2Fcb%3Fstate%3Da+b");
  std::vector<std::pair<std::string, std::string>> q;
  CHECK(ParseQuery("a=1&&b&c=%2F", &q));
  REQUIRE(q.size() == 3);
  CHECK(q[1] == std::pair<std::string, std::string>{"b", ""});
  CHECK(q[2].second == "/");
}

}  // namespace kproxy::sim
