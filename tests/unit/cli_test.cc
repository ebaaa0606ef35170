#include <doctest/doctest.h>

#include <sstream>

#include "cli/command.h"
#include "core/base/exit_code.h"

namespace kproxy::cli {
namespace {

struct Run {
  int status;
  std::string out, err;
};

Run RunArgs(std::vector<const char*> args, const std::string& input = "") {
  args.insert(args.begin(), "kproxy");
  std::istringstream in(input);
  std::ostringstream out, err;
  CommandIO io{in, out, err};
  int status = RunCli(static_cast<int>(args.size()), args.data(), io);
  return {status, out.str(), err.str()};
}

TEST_CASE("version prints the client version") {
  auto r = RunArgs({"version"});
  CHECK(r.status == 0);
  CHECK(r.out == "Client Version: v" KPROXY_VERSION "\n");
  auto j = RunArgs({"version", "-o", "json"});
  CHECK(j.status == 0);
  CHECK(j.out.find("\"gitVersion\": \"v" KPROXY_VERSION "\"") != std::string::npos);
}

TEST_CASE("unknown commands and flags are usage errors with one clear line") {
  auto r = RunArgs({"frobnicate"});
  CHECK(r.status == exit_status::kUsage);
  CHECK(r.err.rfind("error: ", 0) == 0);
  auto f = RunArgs({"version", "-o", "xml"});
  CHECK(f.status == exit_status::kUsage);
  auto none = RunArgs({});
  CHECK(none.status == exit_status::kUsage);
}

TEST_CASE("--help lists the commands and exits 0") {
  auto r = RunArgs({"--help"});
  CHECK(r.status == 0);
  CHECK(r.out.find("version") != std::string::npos);
}

}  // namespace
}  // namespace kproxy::cli
