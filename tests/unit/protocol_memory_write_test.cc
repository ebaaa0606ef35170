// Protocol memory writes only when something changed or the entry is getting old, and forced
// plans are recognisable so the commands do not record them.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "core/negotiate/protocol_memory.h"
#include "tests/support/test_env.h"

namespace kproxy {
namespace {

using test::ReadFileOrEmpty;

// A memory file under a fresh temp dir holding one young "WebSocket worked" exec entry (at 1000).
struct RecordedMemory {
  test::TempDir dir;
  std::string path = (dir.path() / "kproxy" / "protocols.json").string();
  ProtocolMemory mem{path, 3600};
  RememberedOutcome o;
  RecordedMemory() {
    o.good = StreamProtocol::kWebSocket;
    o.at = 1000;
    REQUIRE(mem.Record("https://a", "exec", o));
  }
};

TEST_CASE("protocol memory: an unchanged young entry is not rewritten; a changed or old one is") {
  RecordedMemory f;
  auto& [dir, path, mem, o] = f;
  const std::string first = ReadFileOrEmpty(path);
  REQUIRE(first.find("1000") != std::string::npos);

  // Same outcome 20 minutes later (< TTL/2): the file is untouched, `at` stays.
  o.at = 1000 + 1200;
  CHECK(mem.Record("https://a", "exec", o));
  CHECK(ReadFileOrEmpty(path) == first);
  CHECK(mem.Lookup("https://a", "exec", 2200)->at == 1000);

  // A different outcome is written at once.
  o.refused = StreamProtocol::kSpdy;
  CHECK(mem.Record("https://a", "exec", o));
  CHECK(mem.Lookup("https://a", "exec", 2200)->at == 2200);
  CHECK(*mem.Lookup("https://a", "exec", 2200)->refused == StreamProtocol::kSpdy);

  // The same outcome once the entry is older than half the TTL is refreshed, so a steady
  // cluster never falls out of the memory.
  o.at = 2200 + 1800;
  CHECK(mem.Record("https://a", "exec", o));
  CHECK(mem.Lookup("https://a", "exec", 4000)->at == 4000);
  o.at = 4000 + 1799;
  CHECK(mem.Record("https://a", "exec", o));
  CHECK(mem.Lookup("https://a", "exec", 5799)->at == 4000);

  // Another kind of the same cluster is its own entry.
  CHECK(mem.Record("https://a", "portforward", o));
  CHECK(mem.Lookup("https://a", "portforward", 5799)->at == 5799);
}

TEST_CASE("protocol memory: only a one-protocol plan counts as forced") {
  test::TempDir dir;
  ProtocolMemory mem((dir.path() / "p.json").string(), 3600);
  CHECK(PlanIsForced(PlanFromMemory(mem, "https://a", "exec", "spdy", nullptr, 100)));
  CHECK(PlanIsForced(PlanFromMemory(mem, "https://a", "exec", "websocket", nullptr, 100)));
  CHECK(PlanIsForced(PlanFromMemory(mem, "https://a", "exec", "auto", "false", 100)));
  CHECK_FALSE(PlanIsForced(PlanFromMemory(mem, "https://a", "exec", "auto", nullptr, 100)));
  CHECK_FALSE(PlanIsForced(PlanFromMemory(mem, "https://a", "exec", "auto", "true", 100)));
}

TEST_CASE("protocol memory: recording what Lookup just read does not read the file again") {
  RecordedMemory f;
  auto& [dir, path, mem, o] = f;
  REQUIRE(mem.Lookup("https://a", "exec", 1100));
  // Someone replaces the file between our Lookup and Record: an unchanged young outcome is
  // decided from what Lookup saw, so the file is neither read nor rewritten.
  { std::ofstream(path) << "{\"entries\":{}}"; }
  o.at = 1100;
  CHECK(mem.Record("https://a", "exec", o));
  CHECK(ReadFileOrEmpty(path) == "{\"entries\":{}}");
  // Another key, or a changed outcome, still reads and writes the file.
  CHECK(mem.Record("https://a", "portforward", o));
  CHECK(ReadFileOrEmpty(path).find("portforward") != std::string::npos);
  REQUIRE(mem.Lookup("https://a", "exec", 1100) == std::nullopt);  // gone from the file
  CHECK(mem.Record("https://a", "exec", o));                       // so it is written again
  CHECK(ReadFileOrEmpty(path).find("https://a|exec") != std::string::npos);
}

}  // namespace
}  // namespace kproxy
