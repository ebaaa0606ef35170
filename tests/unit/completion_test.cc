#include "cli/completion.h"

#include <doctest/doctest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>

#include "cli/command.h"
#include "core/base/exit_code.h"
#include "tests/support/test_env.h"

namespace kproxy::cli {
namespace {

// Records what was asked; answers from fixed lists.
class FakeSource : public CompletionSource {
 public:
  std::vector<std::string> calls;
  std::vector<std::string> Contexts() override { return {"prod", "staging"}; }
  std::vector<std::string> Clusters() override { return {"c1"}; }
  std::vector<std::string> Users() override { return {"u1"}; }
  std::vector<std::string> Namespaces(const std::string& ctx) override {
    calls.push_back("ns:" + ctx);
    return {"default", "kube-system"};
  }
  std::vector<std::string> Pods(const std::string& ctx, const std::string& ns) override {
    calls.push_back("pods:" + ctx + "/" + ns);
    return {"web-1", "web-2", "db-0"};
  }
  std::vector<std::string> Containers(const std::string&, const std::string& ns,
                                      const std::string& pod) override {
    calls.push_back("containers:" + ns + "/" + pod);
    return {"main", "sidecar"};
  }
};

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::vector<std::string> Run(std::vector<std::string> words, FakeSource& src) {
  GlobalOptions g;
  RunFn chosen;
  auto app = BuildApp(g, chosen);
  return Complete(*app, words, src);
}

TEST_CASE("commands, flags and flag values come from the command table") {
  FakeSource src;
  auto top = Run({""}, src);
  for (const auto& spec : CommandTable()) {
    if (spec.hidden) continue;
    std::string first = spec.path.substr(0, spec.path.find(' '));
    CHECK_MESSAGE(Has(top, first), first);
  }
  CHECK(!Has(top, "__complete"));
  CHECK(Run({"ver"}, src) == std::vector<std::string>{"version"});
  auto flags = Run({"version", "--"}, src);
  CHECK(Has(flags, "--output"));
  CHECK(Has(flags, "--kubeconfig"));  // globals fall through
  CHECK(Run({"version", "-o", ""}, src) ==
        std::vector<std::string>{"json", "yaml", "wide", "name"});
  CHECK(Run({"version", "-o", "j"}, src) == std::vector<std::string>{"json"});
}

TEST_CASE("contexts and namespaces from the source") {
  FakeSource src;
  CHECK(Run({"--context", ""}, src) == std::vector<std::string>{"prod", "staging"});
  CHECK(Run({"version", "--context", "st"}, src) == std::vector<std::string>{"staging"});
  auto ns = Run({"--context", "prod", "version", "-n", ""}, src);
  CHECK(ns == std::vector<std::string>{"default", "kube-system"});
  CHECK(src.calls.back() == "ns:prod");
}

TEST_CASE("after -- nothing is completed") {
  FakeSource src;
  CHECK(Run({"version", "--", ""}, src).empty());
}

TEST_CASE("man page is roff with every visible command and the exit table") {
  GlobalOptions g;
  RunFn chosen;
  auto app = BuildApp(g, chosen);
  std::string man = ManPage(*app);
  CHECK(man.rfind(".TH KPROXY 1", 0) == 0);
  CHECK(man.find(".SS \"kproxy version\"") != std::string::npos);
  for (const auto& d : kExitStatusDocs)
    CHECK(man.find(".B " + std::to_string(d.status) + "\n") != std::string::npos);
}

TEST_CASE("README lists every exit status") {
  std::string readme = test::ReadFileOrDie(test::SourceDir() / "README.md");
  for (const auto& d : kExitStatusDocs)
    CHECK_MESSAGE(readme.find("| " + std::to_string(d.status) + " |") != std::string::npos,
                  d.status);
}

TEST_CASE("completion scripts exist for the three shells only") {
  for (const char* sh : {"bash", "zsh", "fish"}) {
    std::string s = CompletionScript(sh);
    CHECK(s.find("__complete") != std::string::npos);
  }
  CHECK(CompletionScript("tcsh").empty());
}

}  // namespace
}  // namespace kproxy::cli
