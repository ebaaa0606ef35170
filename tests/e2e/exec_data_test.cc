// Data integrity through kproxy exec over WebSocket and SPDY: 100 MB through stdout and 100 MB
// through stdin checked by SHA-256, exit codes 0/1/3/255, stdin EOF reaching `cat`, output
// fully drained before kproxy exits (also into a slow local reader), and stdin/stdout being
// regular files (`< in > out`, which epoll cannot watch).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/e2e_start.h"

namespace kproxy::test {
namespace {

constexpr const char* kPod = "web-7d9f5c6b8-abcde";
constexpr size_t k100MB = 100u * 1024 * 1024;
const char* const kProtocols[] = {"websocket", "spdy"};

// The simulator runs container commands as local processes, so a file written by the test
// is what the "container" reads.
struct DataCluster {
  SimCluster c;
  std::filesystem::path big;
  std::string big_sha;
  DataCluster() {
    RequireStarted(c);
    big = c.home.path() / "big.bin";
    REQUIRE(WriteDeterministicFile(big, k100MB));
    big_sha = FileSha256Hex(big);
    REQUIRE(big_sha.size() == 64);
  }
};

}  // namespace

TEST_SUITE("e2e.exec") {
  TEST_CASE("100 MB through stdout and 100 MB through stdin, by SHA-256, both protocols") {
    DataCluster d;
    for (const char* protocol : kProtocols) {
      CAPTURE(std::string(protocol));
      std::string flag = std::string("--protocol=") + protocol;
      ProcessResult out =
          d.c.Kproxy({"-v", "1", "exec", flag, kPod, "--", "cat", d.big.string()}, "", 120000);
      INFO("stdout run: " << out.Describe());
      CHECK(out.exit_code == 0);
      CHECK(out.err.find(std::string("connected over ") + protocol) != std::string::npos);
      CHECK(out.out_bytes == k100MB);
      CHECK(out.out_sha256 == d.big_sha);
      MESSAGE(std::string(protocol)
              << ": 100 MB stdout in " << out.wall_seconds << " s, kproxy CPU " << out.cpu_seconds
              << " s, peak RSS " << out.max_rss_kb << " kB");

      // stdin from a pipe the test writes into, the common `producer | kproxy exec -i` case.
      ProcessOptions o;
      o.argv = {"kproxy", "-v", "1", "exec", "-i", flag, kPod, "--", "sha256sum"};
      o.input = ReadFileOrEmpty(d.big);
      o.timeout_ms = 120000;
      ProcessResult in = d.c.Run(o);
      INFO("stdin run: " << in.Describe());
      CHECK(in.exit_code == 0);
      CHECK(in.out == d.big_sha + "  -\n");
      MESSAGE(std::string(protocol) << ": 100 MB stdin in " << in.wall_seconds << " s, kproxy CPU "
                                    << in.cpu_seconds << " s, peak RSS " << in.max_rss_kb << " kB");
    }
  }

  TEST_CASE("stdin and stdout as regular files (`< in > out`)") {
    DataCluster d;
    for (const char* protocol : kProtocols) {
      CAPTURE(std::string(protocol));
      std::filesystem::path out_file = d.c.home.path() / (std::string("out-") + protocol);
      ProcessOptions o;
      o.argv = {"/bin/sh",
                "-c",
                "\"$@\" > '" + out_file.string() + "'",
                "sh",
                KproxyBinary().string(),
                "exec",
                "-i",
                std::string("--protocol=") + protocol,
                kPod,
                "--",
                "sh",
                "-c",
                "head -c 1048576 | sha256sum; cat '" + d.big.string() + "'"};
      o.input_file = d.big;
      o.timeout_ms = 120000;
      ProcessResult r = d.c.Run(o);
      INFO(r.Describe());
      CHECK(r.exit_code == 0);
      std::string got = ReadFileOrEmpty(out_file);
      std::string first_mb;
      {
        std::ifstream f(d.big, std::ios::binary);
        first_mb.resize(1048576);
        f.read(first_mb.data(), 1048576);
      }
      std::string hash_line = Sha256Hex(first_mb) + "  -\n";
      REQUIRE(got.size() == hash_line.size() + k100MB);
      CHECK(got.substr(0, hash_line.size()) == hash_line);
      CHECK(Sha256Hex(got.substr(hash_line.size())) == d.big_sha);
    }
  }

  TEST_CASE("exit codes 0, 1, 3, 255 and stdin EOF with cat, both protocols") {
    SimCluster c;
    RequireStarted(c);
    for (const char* protocol : kProtocols) {
      CAPTURE(std::string(protocol));
      std::string flag = std::string("--protocol=") + protocol;
      for (int code : {0, 1, 3, 255}) {
        CAPTURE(code);
        ProcessResult r =
            c.Kproxy({"exec", flag, kPod, "--", "sh", "-c", "exit " + std::to_string(code)});
        INFO(r.Describe());
        CHECK(r.exit_code == code);
        bool says = r.err.find("command terminated with exit code " + std::to_string(code)) !=
                    std::string::npos;
        CHECK(says == (code != 0));
      }
      // cat ends only when stdin's EOF reaches it (v5 close signal / SPDY FIN).
      ProcessResult cat = c.Kproxy({"exec", "-i", flag, kPod, "--", "cat"}, "line one\nline two\n");
      INFO(cat.Describe());
      CHECK_FALSE(cat.timed_out);
      CHECK(cat.exit_code == 0);
      CHECK(cat.out == "line one\nline two\n");
      CHECK(cat.err == "");
      // An empty stdin is an immediate EOF.
      ProcessOptions o;
      o.argv = {"kproxy", "exec", "-i", flag, kPod, "--", "wc", "-c"};
      o.input_file = "/dev/null";
      ProcessResult empty = c.Run(o);
      INFO(empty.Describe());
      CHECK(empty.exit_code == 0);
      CHECK(empty.out == "0\n");
    }
  }

  TEST_CASE("output is drained before exit, also into a slow local reader") {
    SimCluster c;
    RequireStarted(c);
    std::filesystem::path f = c.home.path() / "two.bin";
    REQUIRE(WriteDeterministicFile(f, 2u * 1024 * 1024));
    std::string sha = FileSha256Hex(f);
    for (const char* protocol : kProtocols) {
      CAPTURE(std::string(protocol));
      ProcessOptions o;
      // The command exits (status 7) long before a reader at ~3 MB/s has taken everything.
      o.argv = {"kproxy",
                "exec",
                std::string("--protocol=") + protocol,
                kPod,
                "--",
                "sh",
                "-c",
                "cat '" + f.string() + "'; echo tail-err >&2; exit 7"};
      o.slow_stdout_bytes = 64 * 1024;
      o.timeout_ms = 60000;
      ProcessResult r = c.Run(o);
      INFO(r.Describe());
      CHECK(r.exit_code == 7);
      CHECK(r.out_bytes == 2u * 1024 * 1024);
      CHECK(r.out_sha256 == sha);
      CHECK(r.err.find("tail-err\n") != std::string::npos);
      CHECK(r.err.find("command terminated with exit code 7") != std::string::npos);
    }
  }
}

}  // namespace kproxy::test
