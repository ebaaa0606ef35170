#include <doctest/doctest.h>

#include <fstream>

#include "core/negotiate/fallback_policy.h"
#include "core/negotiate/protocol_memory.h"
#include "tests/support/test_env.h"

namespace kproxy {
namespace {

Diagnosis Kind(RefusalKind k, std::string verb = "") {
  Diagnosis d;
  d.kind = k;
  d.verb = std::move(verb);
  d.resource = "pods/exec";
  return d;
}

TEST_CASE("kubectl's predicate: only handshake failures fall back") {
  auto ws = StreamProtocol::kWebSocket;
  CHECK(DecideAfterFailure(ws, FailureStage::kDial, Kind(RefusalKind::kOther), false, true).step ==
        NextStep::kReport);
  CHECK(DecideAfterFailure(ws, FailureStage::kAfterUpgrade, Kind(RefusalKind::kOther), false, true)
            .step == NextStep::kReport);
  CHECK(DecideAfterFailure(ws, FailureStage::kProxyDial, Kind(RefusalKind::kOther), false, true)
            .step == NextStep::kFallback);
  CHECK(DecideAfterFailure(ws, FailureStage::kHandshake, Kind(RefusalKind::kOther), false, true)
            .step == NextStep::kFallback);
  CHECK(DecideAfterFailure(ws, FailureStage::kHandshake, Kind(RefusalKind::kUpgradeRefused), false,
                           true)
            .step == NextStep::kFallback);
  CHECK(DecideAfterFailure(ws, FailureStage::kHandshake, Kind(RefusalKind::kOther), false, false)
            .step == NextStep::kReport);
}

TEST_CASE("kproxy's improvements: classified failures") {
  auto ws = StreamProtocol::kWebSocket;
  auto spdy = StreamProtocol::kSpdy;
  auto hs = FailureStage::kHandshake;
  CHECK(DecideAfterFailure(ws, hs, Kind(RefusalKind::kUnauthenticated), false, true).step ==
        NextStep::kReauthenticateAndRetry);
  CHECK(DecideAfterFailure(ws, hs, Kind(RefusalKind::kUnauthenticated), true, true).step ==
        NextStep::kReport);
  CHECK(DecideAfterFailure(ws, hs, Kind(RefusalKind::kProxyPolicy), false, true).step ==
        NextStep::kReport);
  CHECK(DecideAfterFailure(ws, hs, Kind(RefusalKind::kRbac, "create"), false, true).step ==
        NextStep::kReport);
  auto asym = DecideAfterFailure(ws, hs, Kind(RefusalKind::kRbac, "get"), false, true);
  CHECK(asym.step == NextStep::kFallbackWithHint);
  CHECK(asym.hint.find("\"get\"") != std::string::npos);
  CHECK(DecideAfterFailure(spdy, hs, Kind(RefusalKind::kRbac, "get"), false, true).step ==
        NextStep::kReport);
  CHECK(DecideAfterFailure(ws, hs, Kind(RefusalKind::kHttp2Only), false, true).step ==
        NextStep::kReport);
  CHECK(DecideAfterFailure(ws, hs, Kind(RefusalKind::kImpersonationDenied), false, true).step ==
        NextStep::kReport);
}

TEST_CASE("protocol plan from flag, environment and memory") {
  auto ws = StreamProtocol::kWebSocket;
  auto spdy = StreamProtocol::kSpdy;
  using V = std::vector<StreamProtocol>;
  CHECK(PlanProtocols("auto", "", nullptr, nullptr).order == V{ws, spdy});
  CHECK(PlanProtocols("spdy", "", nullptr, nullptr).order == V{spdy});
  CHECK(PlanProtocols("websocket", "false", nullptr, nullptr).order == V{ws});
  CHECK(PlanProtocols("auto", "false", nullptr, nullptr).order == V{spdy});
  CHECK(PlanProtocols("auto", "FALSE", nullptr, nullptr).order == V{spdy});
  CHECK(PlanProtocols("auto", "true", nullptr, nullptr).order == V{ws, spdy});
  CHECK(PlanProtocols("auto", "", &spdy, nullptr).order == V{spdy, ws});
  CHECK(PlanProtocols("auto", "", nullptr, &ws).order == V{spdy, ws});
  CHECK(PlanProtocols("auto", "", &ws, nullptr).order == V{ws, spdy});
}

TEST_CASE("protocol memory persists per cluster and kind, honours its TTL, survives junk") {
  test::TempDir dir;
  std::string path = (dir.path() / "kproxy" / "protocols.json").string();
  ProtocolMemory mem(path, 3600);
  CHECK(!mem.Lookup("https://a", "exec", 1000));
  RememberedOutcome o;
  o.good = StreamProtocol::kSpdy;
  o.refused = StreamProtocol::kWebSocket;
  o.at = 1000;
  REQUIRE(mem.Record("https://a", "exec", o));
  auto got = ProtocolMemory(path, 3600).Lookup("https://a", "exec", 1500);
  REQUIRE(got);
  CHECK(*got->good == StreamProtocol::kSpdy);
  CHECK(*got->refused == StreamProtocol::kWebSocket);
  CHECK(!mem.Lookup("https://a", "portforward", 1500));
  CHECK(!mem.Lookup("https://b", "exec", 1500));
  CHECK(!mem.Lookup("https://a", "exec", 1000 + 3601));  // expired
  std::filesystem::perms p = std::filesystem::status(path).permissions();
  CHECK((p & std::filesystem::perms::group_all) == std::filesystem::perms::none);
  { std::ofstream(path) << "{not json"; }
  CHECK(!mem.Lookup("https://a", "exec", 1500));
  CHECK(mem.Record("https://a", "exec", o));  // rewrites a corrupt file
  CHECK(mem.Lookup("https://a", "exec", 1500));
}

}  // namespace
}  // namespace kproxy

namespace kproxy {
namespace {

TEST_CASE("PlanFromMemory: remembered SPDY goes first; the environment switch wins") {
  test::TempDir dir;
  ProtocolMemory mem((dir.path() / "p.json").string(), 3600);
  using V = std::vector<StreamProtocol>;
  auto ws = StreamProtocol::kWebSocket;
  auto spdy = StreamProtocol::kSpdy;
  CHECK(PlanFromMemory(mem, "https://a", "exec", "auto", nullptr, 100).order == V{ws, spdy});
  RememberedOutcome o;
  o.good = spdy;
  o.refused = ws;
  o.at = 100;
  REQUIRE(mem.Record("https://a", "exec", o));
  CHECK(PlanFromMemory(mem, "https://a", "exec", "auto", nullptr, 200).order == V{spdy, ws});
  CHECK(PlanFromMemory(mem, "https://a", "portforward", "auto", nullptr, 200).order ==
        V{ws, spdy});
  CHECK(PlanFromMemory(mem, "https://a", "exec", "websocket", nullptr, 200).order == V{ws});
  CHECK(PlanFromMemory(mem, "https://b", "exec", "auto", "false", 200).order == V{spdy});
}

}  // namespace
}  // namespace kproxy
