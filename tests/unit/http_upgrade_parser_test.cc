// Incremental HTTP/1.1 response (client) and request (server) parsers.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/transport/http_request_parser.h"
#include "core/transport/http_response_parser.h"
#include "tests/support/test_env.h"
#include "tests/support/transcript.h"

namespace kproxy::http {
namespace {

std::vector<std::vector<std::string>> AllSplits(const std::string& s) {
  return {test::SplitWhole(s), test::SplitBytewise(s), test::SplitRandom(s, 7),
          test::SplitRandom(s, 99)};
}

struct Parsed {
  Status status;
  bool done = false;
  HttpResponse response;
  std::string leftover;
};

Parsed ParseAll(const std::vector<std::string>& parts, bool eof = false) {
  HttpResponseParser p;
  Parsed out;
  for (const auto& part : parts) {
    out.status = p.Feed(part);
    if (!out.status.ok()) return out;
  }
  if (eof) out.status = p.FinishOnEof();
  out.done = p.done();
  out.response = p.response();
  out.leftover = p.TakeLeftover();
  return out;
}

}  // namespace

TEST_CASE("http response parser: 101 hands back the upgraded bytes untouched") {
  const std::string head =
      test::ReadFileOrDie(test::VectorsDir() / "ws-v5-exec-success.kubectl-1.33.response.txt");
  const std::string after =
      test::LoadTranscript(test::VectorsDir() / "ws-v5-exec-success.kubectl-1.33.transcript")
          .ServerBytes();
  for (const auto& parts : AllSplits(head + after)) {
    Parsed r = ParseAll(parts);
    REQUIRE(r.status.ok());
    CHECK(r.done);
    CHECK(r.response.status == 101);
    CHECK(r.response.reason == "Switching Protocols");
    CHECK(r.response.headers.Get("sec-websocket-accept") == "tuwbVI1pyw3iVYDNHLMSjdpvnbk=");
    CHECK(r.response.body.empty());
    CHECK(r.leftover == after);
  }
}

TEST_CASE("http response parser: refused upgrade keeps status, headers and body") {
  const std::string body =
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"alpha\" is forbidden: User \"bob\" cannot create resource \"pods/exec\"","reason":"Forbidden","code":403})";
  const std::string wire =
      "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
      "X-Request-Id: abc\r\n  def\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body + "NEXT";
  for (const auto& parts : AllSplits(wire)) {
    Parsed r = ParseAll(parts);
    REQUIRE(r.status.ok());
    CHECK(r.done);
    CHECK(r.response.status == 403);
    CHECK(r.response.headers.Get("CONTENT-TYPE") == "application/json");
    CHECK(r.response.headers.Get("x-request-id") == "abc def");  // folded value joined
    CHECK(r.response.body == body);
    CHECK(!r.response.body_truncated);
    CHECK(r.leftover == "NEXT");
  }
}

TEST_CASE("http response parser: chunked body with extensions and trailers") {
  const std::string wire =
      "HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n"
      "7;ext=1\r\nUpgrade\r\n11\r\n request required\r\n0\r\nX-Trailer: t\r\n\r\n";
  for (const auto& parts : AllSplits(wire)) {
    Parsed r = ParseAll(parts);
    REQUIRE(r.status.ok());
    CHECK(r.done);
    CHECK(r.response.status == 400);
    CHECK(r.response.body == "Upgrade request required");
  }
}

TEST_CASE("http response parser: body until close, bare LF heads, empty reason") {
  const std::string wire = "HTTP/1.0 401\nWww-Authenticate: Bearer\n\nUnauthorized";
  for (const auto& parts : AllSplits(wire)) {
    Parsed r = ParseAll(parts, /*eof=*/true);
    REQUIRE(r.status.ok());
    CHECK(r.done);
    CHECK(r.response.status == 401);
    CHECK(r.response.reason.empty());
    CHECK(r.response.body == "Unauthorized");
  }
}

TEST_CASE("http response parser: interim 100 is skipped; 204 has no body") {
  Parsed r =
      ParseAll({"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 403 Forbidden\r\nContent-Length: "
                "2\r\n\r\nno"});
  REQUIRE(r.status.ok());
  CHECK(r.response.status == 403);
  CHECK(r.response.body == "no");
  r = ParseAll({"HTTP/1.1 204 No Content\r\n\r\nxyz"});
  REQUIRE(r.status.ok());
  CHECK(r.done);
  CHECK(r.leftover == "xyz");
}

TEST_CASE("http response parser: body is capped, never unbounded") {
  const std::string big(200 * 1024, 'b');
  for (const std::string& wire :
       {"HTTP/1.1 403 Forbidden\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n" +
            big,
        "HTTP/1.1 403 Forbidden\r\n\r\n" + big,
        "HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n32000\r\n" + big}) {
    Parsed r = ParseAll({wire.substr(0, 1000), wire.substr(1000)});
    REQUIRE(r.status.ok());
    CHECK(r.done);
    CHECK(r.response.body.size() == kMaxBodyBytes);
    CHECK(r.response.body_truncated);
    CHECK(r.leftover.empty());
  }
  // Exactly at the cap is not truncated.
  const std::string exact(kMaxBodyBytes, 'e');
  Parsed r = ParseAll({"HTTP/1.1 403 Forbidden\r\nContent-Length: " + std::to_string(exact.size()) +
                       "\r\n\r\n" + exact});
  CHECK(r.done);
  CHECK(!r.response.body_truncated);
}

TEST_CASE("http response parser: malformed responses fail and stay failed") {
  const std::vector<std::string> bad = {
      "HTTP/2 200 OK\r\n\r\n",
      "HTTP/1.1 20 OK\r\n\r\n",
      "HTTP/1.1 abc OK\r\n\r\n",
      "HTTP/1.1 200OK\r\n\r\n",
      "FOO\r\n\r\n",
      "\r\n\r\n",
      "HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
      "HTTP/1.1 200 OK\r\n folded first\r\n\r\n",
      "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
      "HTTP/1.1 403 Forbidden\r\nContent-Length: -1\r\n\r\n",
      "HTTP/1.1 403 Forbidden\r\nContent-Length: 12abc\r\n\r\n",
      "HTTP/1.1 403 Forbidden\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: gzip\r\n\r\n",
      "HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
      "HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(2000, '1'),
      "HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
      "HTTP/1.1 200 OK\r\nX: " + std::string(kMaxHeadBytes, 'h'),  // oversize head
      [] {  // endless interim responses
        std::string s;
        for (int i = 0; i < 100; ++i) s += "HTTP/1.1 100 Continue\r\n\r\n";
        return s;
      }(),
  };
  for (const auto& wire : bad) {
    CAPTURE(wire.substr(0, 80));
    for (const auto& parts : {test::SplitWhole(wire), test::SplitRandom(wire, 3)}) {
      HttpResponseParser p;
      Status s;
      for (const auto& part : parts)
        if (s = p.Feed(part); !s.ok()) break;
      REQUIRE(!s.ok());
      CHECK(s.error().code == ErrorCode::kProtocol);
      CHECK(p.failed());
      CHECK(!p.Feed("HTTP/1.1 200 OK\r\n\r\n").ok());
    }
  }
}

TEST_CASE("http response parser: EOF before the end is a lost connection") {
  for (const std::string& wire :
       {std::string("HTTP/1.1 403 Forb"), std::string("HTTP/1.1 403 Forbidden\r\nContent-Length: "
                                                      "10\r\n\r\nabc")}) {
    HttpResponseParser p;
    REQUIRE(p.Feed(wire).ok());
    Status s = p.FinishOnEof();
    REQUIRE(!s.ok());
    CHECK(s.error().code == ErrorCode::kUnavailable);
  }
}

TEST_CASE("http request parser: kubectl-style SPDY request with decoded path and query") {
  const std::string wire =
      "POST /api/v1/namespaces/default/pods/al%70ha/exec?command=sh&command=-c&command=cat%3B+echo"
      "+to-err+%3E%262%3B+exit+7&container=main&stderr=true&stdin=true&stdout=true HTTP/1.1\r\n"
      "Host: 127.0.0.1:16499\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
      "X-Stream-Protocol-Version: v4.channel.k8s.io\r\nX-Stream-Protocol-Version: "
      "channel.k8s.io\r\n\r\n\x80\x03";
  for (const auto& parts : AllSplits(wire)) {
    HttpRequestParser p;
    for (const auto& part : parts) REQUIRE(p.Feed(part).ok());
    REQUIRE(p.done());
    const HttpRequest& r = p.request();
    CHECK(r.method == "POST");
    CHECK(r.path == "/api/v1/namespaces/default/pods/alpha/exec");
    CHECK(r.QueryAll("command") ==
          std::vector<std::string>{"sh", "-c", "cat; echo to-err >&2; exit 7"});
    CHECK(r.Query("container") == "main");
    CHECK(r.Query("tty").empty());
    CHECK(r.headers.GetAll("x-stream-protocol-version").size() == 2);
    CHECK(r.headers.HasToken("connection", "upgrade"));
    CHECK(p.TakeLeftover() == "\x80\x03");
  }
}

TEST_CASE("http request parser: a small body is consumed before the leftover") {
  HttpRequestParser p;
  REQUIRE(p.Feed("POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcREST").ok());
  REQUIRE(p.done());
  CHECK(p.TakeLeftover() == "REST");
}

TEST_CASE("http request parser: malformed requests fail") {
  const std::vector<std::string> bad = {
      "GET\r\n\r\n",
      "GET /x\r\n\r\n",
      "GET  /x HTTP/1.1\r\n\r\n",
      "GET /x HTTP/2.0\r\n\r\n",
      "GET x HTTP/1.1\r\n\r\n",
      "GET /a%zz HTTP/1.1\r\n\r\n",
      "GET /a?b=%2 HTTP/1.1\r\n\r\n",
      "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST /x HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n",
      "POST /x HTTP/1.1\r\nContent-Length: x\r\n\r\n",
      "GET /x HTTP/1.1\r\n" + std::string(kMaxHeadBytes + 10, 'a'),
  };
  for (const auto& wire : bad) {
    CAPTURE(wire.substr(0, 60));
    for (const auto& parts : {test::SplitWhole(wire), test::SplitBytewise(wire)}) {
      HttpRequestParser p;
      Status s;
      for (const auto& part : parts)
        if (s = p.Feed(part); !s.ok()) break;
      REQUIRE(!s.ok());
      CHECK(p.failed());
    }
  }
}

}  // namespace kproxy::http
