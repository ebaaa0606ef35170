// Bounded memory under a 1 GB burst, over WebSocket and SPDY: stdin offered as fast as a pipe
// allows to a server that reads slowly (fault slow-reader), and 1 GB of remote output into a
// slow local reader. kproxy must stop reading the fast side (back-pressure) instead of
// buffering; its peak RSS (VmHWM) stays small. Each run is cut off after ~5 s.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/support/e2e_start.h"

namespace kproxy::test {
namespace {

constexpr const char* kPod = "web-7d9f5c6b8-abcde";
constexpr uint64_t k1GB = 1024ull * 1024 * 1024;
constexpr long kRssLimitKb = 64 * 1024;  // kproxy idles at ~17 MB; buffering 1 GB would not fit
constexpr auto kBurst = std::chrono::seconds(5);

// Runs `options` for kBurst and then kills it (RunProcess samples the peak RSS meanwhile).
ProcessResult RunBurst(const SimCluster& c, ProcessOptions o) {
  auto start = std::chrono::steady_clock::now();
  o.on_tick = [&](pid_t) { return std::chrono::steady_clock::now() - start < kBurst; };
  o.timeout_ms = 30000;
  return c.Run(o);
}

}  // namespace

TEST_SUITE("e2e.exec") {
  TEST_CASE("1 GB of stdin into a slow-reading server: kproxy's memory stays bounded") {
    SimCluster c;
    RequireStarted(c, {"slow-reader"});
    for (const char* protocol : {"websocket", "spdy"}) {
      CAPTURE(std::string(protocol));
      ProcessOptions o;
      o.argv = {
          "kproxy", "-v", "1",  "exec",          "-i", std::string("--protocol=") + protocol, kPod,
          "--",     "sh", "-c", "cat >/dev/null"};
      o.input_zeros = k1GB;
      ProcessResult r = RunBurst(c, o);
      INFO(r.Describe() << "\nstdin bytes taken: " << r.in_bytes);
      CHECK(r.err.find(std::string("connected over ") + protocol) != std::string::npos);
      CHECK(r.max_rss_kb > 0);
      CHECK(r.max_rss_kb < kRssLimitKb);
      // Back-pressure: kproxy stopped taking stdin long before the gigabyte.
      CHECK(r.in_bytes < 64ull * 1024 * 1024);
      MESSAGE(std::string(protocol) << ": 1 GB stdin burst into slow-reader for 5 s: kproxy took "
                                    << r.in_bytes << " bytes, peak RSS " << r.max_rss_kb << " kB");
    }
  }

  TEST_CASE("1 GB of output into a slow local reader: kproxy's memory stays bounded") {
    SimCluster c;
    RequireStarted(c);
    for (const char* protocol : {"websocket", "spdy"}) {
      CAPTURE(std::string(protocol));
      ProcessOptions o;
      o.argv = {"kproxy",   "-v", "1",    "exec", std::string("--protocol=") + protocol,
                kPod,       "--", "head", "-c",   std::to_string(k1GB),
                "/dev/zero"};
      o.slow_stdout_bytes = 64 * 1024;  // ~3 MB/s
      ProcessResult r = RunBurst(c, o);
      INFO(r.Describe());
      CHECK(r.err.find(std::string("connected over ") + protocol) != std::string::npos);
      CHECK(r.out_bytes > 1024u * 1024);  // it did flow
      CHECK(r.out_bytes < 100u * 1024 * 1024);
      CHECK(r.max_rss_kb > 0);
      CHECK(r.max_rss_kb < kRssLimitKb);
      MESSAGE(std::string(protocol) << ": 1 GB output burst into a slow reader for 5 s: read "
                                    << r.out_bytes << " bytes, peak RSS " << r.max_rss_kb << " kB");
    }
  }
}

}  // namespace kproxy::test
