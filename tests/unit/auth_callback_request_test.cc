#include <doctest/doctest.h>

#include "auth/callback_request.h"
#include "tests/support/transcript.h"

namespace kproxy::auth {
namespace {

using State = CallbackRequestParser::State;

State FeedAll(CallbackRequestParser& p, const std::vector<std::string>& pieces) {
  for (const auto& piece : pieces) p.Feed(piece);
  return p.state();
}

// What a browser sends (Chrome-like head), written by hand.
const std::string kBrowserRequest =
    "GET /3f2a/callback?state=00ff&pomerium_jwt=a.b.c HTTP/1.1\r\n"
    "Host: 127.0.0.1:41234\r\n"
    "Connection: keep-alive\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"
    "Accept: text/html,application/xhtml+xml\r\n\r\n";

TEST_CASE("callback request: whole, bytewise and random splits give the same result") {
  std::vector<std::vector<std::string>> splits = {test::SplitWhole(kBrowserRequest),
                                                  test::SplitBytewise(kBrowserRequest)};
  for (uint32_t seed = 1; seed <= 20; ++seed)
    splits.push_back(test::SplitRandom(kBrowserRequest, seed));
  for (const auto& pieces : splits) {
    CallbackRequestParser p;
    REQUIRE(FeedAll(p, pieces) == State::kDone);
    CHECK(p.method() == "GET");
    CHECK(p.target() == "/3f2a/callback?state=00ff&pomerium_jwt=a.b.c");
  }
}

TEST_CASE("callback request: partial input keeps reading; bytes after the head are ignored") {
  CallbackRequestParser p;
  CHECK(p.Feed("GET / HTTP/1.1\r\nHost: x\r\n") == State::kReading);
  CHECK(p.Feed("\r") == State::kReading);
  CHECK(p.Feed("\nbody bytes") == State::kDone);
  CHECK(p.target() == "/");
  CHECK(p.Feed("more") == State::kDone);
}

TEST_CASE("callback request: POST and other methods parse (the listener refuses them)") {
  CallbackRequestParser p;
  CHECK(p.Feed("POST /x/callback?state=1 HTTP/1.0\r\n\r\n") == State::kDone);
  CHECK(p.method() == "POST");
}

TEST_CASE("callback request: malformed heads fail and stay failed") {
  const char* bad[] = {"GET\r\n\r\n",
                       "GET /x\r\n\r\n",
                       "GET /x HTTP/2\r\n\r\n",
                       "get /x HTTP/1.1\r\n\r\n",
                       "GET http://evil/x HTTP/1.1\r\n\r\n",
                       "GET /x y HTTP/1.1\r\n\r\n",
                       " /x HTTP/1.1\r\n\r\n",
                       "GET /\x01 HTTP/1.1\r\n\r\n"};
  for (const char* b : bad) {
    CallbackRequestParser p;
    CHECK(p.Feed(b) == State::kFailed);
    CHECK_FALSE(p.error().empty());
    CHECK(p.Feed("GET / HTTP/1.1\r\n\r\n") == State::kFailed);
  }
}

TEST_CASE("callback request: an endless head is refused without unbounded buffering") {
  CallbackRequestParser p;
  std::string chunk(1000, 'a');
  State s = p.Feed("GET /x HTTP/1.1\r\n");
  for (int i = 0; i < 100 && s == State::kReading; ++i) s = p.Feed("X: " + chunk + "\r\n");
  CHECK(s == State::kFailed);
}

TEST_CASE("callback request: SplitTarget") {
  std::string path, query;
  SplitTarget("/a/callback?state=1#frag", &path, &query);
  CHECK(path == "/a/callback");
  CHECK(query == "state=1");
  SplitTarget("/a", &path, &query);
  CHECK(query.empty());
}

}  // namespace
}  // namespace kproxy::auth
