#include "cli/completion.h"

#include <doctest/doctest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "core/base/exit_code.h"
#include "tests/support/test_env.h"

// Candidate lists print as {a, b} in failure messages.
namespace doctest {
template <>
struct StringMaker<std::vector<std::string>> {
  static String convert(const std::vector<std::string>& v) {
    std::string out = "{";
    for (const auto& s : v) out += (out.size() > 1 ? ", \"" : "\"") + s + "\"";
    return (out + "}").c_str();
  }
};
}  // namespace doctest

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
  // `version -o` accepts json|yaml only: the candidates are what the parser accepts.
  CHECK(Run({"version", "-o", ""}, src) == std::vector<std::string>{"json", "yaml"});
  CHECK(Run({"version", "-o", "j"}, src) == std::vector<std::string>{"json"});
  CHECK(Run(
            {
                "version",
                "--output=",
            },
            src) == std::vector<std::string>{"--output=json", "--output=yaml"});
  CHECK(Run({"version", "--output=y"}, src) == std::vector<std::string>{"--output=yaml"});
  CHECK(Run({"--context=st"}, src) == std::vector<std::string>{"--context=staging"});
  CHECK(Run({"version", "--nope="}, src).empty());
}

TEST_CASE("contexts and namespaces from the source") {
  FakeSource src;
  CHECK(Run({"--context", ""}, src) == std::vector<std::string>{"prod", "staging"});
  CHECK(Run({"version", "--context", "st"}, src) == std::vector<std::string>{"staging"});
  auto ns = Run({"--context", "prod", "version", "-n", ""}, src);
  CHECK(ns == std::vector<std::string>{"default", "kube-system"});
  CHECK(src.calls.back() == "ns:prod");
}

TEST_CASE("odd and random command lines: candidates always match the word being typed") {
  FakeSource src;
  // Words a half-typed line can hold, including broken flags and values.
  const std::vector<std::string> pool = {"",           "-",           "--",
                                         "---",        "=",           "-o",
                                         "-o=",        "--output=",   "--o",
                                         "-n",         "-n=",         "x",
                                         "version",    "completion",  "bash",
                                         "--context",  "--context=",  "-vvv",
                                         "-v",         "9",           "--kubeconfig",
                                         "__complete", "exec",        "pod/",
                                         "-c",         "--container", std::string(300, 'a'),
                                         "--as-group", "\xff\xfe",    "-h",
                                         "--help"};
  std::mt19937 rng(20261129);
  for (int i = 0; i < 3000; ++i) {
    std::vector<std::string> words(1 + rng() % 7);
    for (auto& w : words) w = pool[rng() % pool.size()];
    CAPTURE(words);
    std::vector<std::string> got;
    CHECK_NOTHROW(got = Run(words, src));
    for (const auto& c : got) CHECK(c.rfind(words.back(), 0) == 0);
  }
}

// A tree shaped like kubectl's pod commands, independent of which commands the table has yet.
struct PodTree {
  CLI::App app{"test", "kproxy"};
  std::string ns, ctx, container;
  std::vector<std::string> args;
  PodTree() {
    app.add_option("-n,--namespace", ns);
    app.add_option("--context", ctx);
    app.fallthrough();
    for (const char* name : {"exec", "logs"}) {
      CLI::App* sub = app.add_subcommand(name, "x");
      sub->fallthrough();
      sub->add_option("-c,--container", container);
      sub->add_flag("-i,--stdin");
      sub->add_option("args", args);
    }
    CLI::App* get = app.add_subcommand("get", "x");
    get->fallthrough();
    get->add_option("args", args);
  }
};

TEST_CASE("pods, TYPE/NAME forms and containers for pod commands") {
  FakeSource src;
  PodTree t;
  using V = std::vector<std::string>;
  CHECK(Complete(t.app, {"exec", "we"}, src) == V{"web-1", "web-2"});
  CHECK(src.calls.back() == "pods:/");
  CHECK(Complete(t.app, {"--context", "prod", "-n", "team", "exec", "-i", ""}, src) ==
        V{"web-1", "web-2", "db-0"});
  CHECK(src.calls.back() == "pods:prod/team");
  CHECK(Complete(t.app, {"logs", "pod/d"}, src) == V{"pod/db-0"});
  // Only the first positional is a pod; the rest is the remote command.
  CHECK(Complete(t.app, {"exec", "web-1", ""}, src).empty());
  CHECK(Complete(t.app, {"exec", "-n", "team", "pod/web-1", "-c", ""}, src) ==
        V{"main", "sidecar"});
  CHECK(src.calls.back() == "containers:team/web-1");
  CHECK(Complete(t.app, {"get", ""}, src) == V{"pods"});
  CHECK(Complete(t.app, {"get", "po", "w"}, src) == V{"web-1", "web-2"});
  CHECK(Complete(t.app, {"get", "pods", "web-1", ""}, src).empty());
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

struct CliRun {
  int status;
  std::string out, err;
};

CliRun RunArgs(std::vector<const char*> args) {
  args.insert(args.begin(), "kproxy");
  std::istringstream in;
  std::ostringstream out, err;
  CommandIO io{in, out, err};
  int status = RunCli(static_cast<int>(args.size()), args.data(), io);
  return {status, out.str(), err.str()};
}

TEST_CASE("`completion SHELL` prints the script; other shells are usage errors") {
  for (const char* sh : {"bash", "zsh", "fish"}) {
    auto r = RunArgs({"completion", sh});
    CHECK(r.status == 0);
    CHECK(r.out == CompletionScript(sh));
  }
  auto bad = RunArgs({"completion", "tcsh"});
  CHECK(bad.status == exit_status::kUsage);
  CHECK(bad.out.empty());
  CHECK(bad.err.find("tcsh") != std::string::npos);
  CHECK(RunArgs({"completion"}).status == exit_status::kUsage);
}

TEST_CASE("__complete takes every word raw, keeps an empty last word and exits 0") {
  // Global flags are the line being completed, not options of __complete.
  auto r = RunArgs({"__complete", "-n", "x", "--context=y", "ver"});
  CHECK(r.status == 0);
  CHECK(r.out == "version\n");
  CHECK(r.err.empty());
  auto values = RunArgs({"__complete", "version", "-o", ""});
  CHECK(values.out == "json\nyaml\n");
  // --help is a word to complete here, not a request for help.
  auto help = RunArgs({"__complete", "version", "--he"});
  CHECK(help.status == 0);
  CHECK(help.out == "--help\n");
  auto flags = RunArgs({"__complete", "--kubec"});
  CHECK(flags.out == "--kubeconfig\n");
  auto top = RunArgs({"__complete", ""});
  CHECK(top.status == 0);
  CHECK(top.out.find("version\n") != std::string::npos);
  CHECK(top.out.find("__") == std::string::npos);  // hidden commands stay hidden
  auto none = RunArgs({"__complete"});
  CHECK(none.status == 0);
  CHECK(none.out == top.out);
  // After "--" the words belong to the remote command.
  auto remote = RunArgs({"__complete", "version", "--", ""});
  CHECK(remote.status == 0);
  CHECK(remote.out.empty());
  auto leading = RunArgs({"__complete", "--", ""});
  CHECK(leading.status == 0);
  CHECK(leading.out.empty());
  CHECK(leading.err.empty());
}

TEST_CASE("__man prints the same page as ManPage") {
  GlobalOptions g;
  RunFn chosen;
  auto app = BuildApp(g, chosen);
  auto r = RunArgs({"__man"});
  CHECK(r.status == 0);
  CHECK(r.out == ManPage(*app));
}

TEST_CASE("every visible command has kubectl-style examples in --help") {
  for (const auto& spec : CommandTable()) {
    if (spec.hidden) continue;
    CAPTURE(spec.path);
    // kubectl's style: indented "  # what it does" followed by the indented command line.
    CHECK(spec.example.rfind("  # ", 0) == 0);
    CHECK(spec.example.find("\n  kproxy " + spec.path) != std::string::npos);
    std::vector<const char*> args;
    std::istringstream words(spec.path);
    std::vector<std::string> owned;
    for (std::string w; words >> w;) owned.push_back(w);
    for (const auto& w : owned) args.push_back(w.c_str());
    args.push_back("--help");
    auto r = RunArgs(args);
    CHECK(r.status == 0);
    CHECK(r.out.find("Examples:\n" + spec.example) != std::string::npos);
  }
}

TEST_CASE("man page lists options with their value type and no per-command --help") {
  GlobalOptions g;
  RunFn chosen;
  auto app = BuildApp(g, chosen);
  std::string man = ManPage(*app);
  CHECK(man.find("\\fB\\-o, \\-\\-output\\fR \\fI") != std::string::npos);
  CHECK(man.find(".SS \"kproxy completion \\fIshell\\fR\"") != std::string::npos);
  // Only the top-level help option (GLOBAL OPTIONS) is listed.
  size_t first = man.find("\\-\\-help");
  REQUIRE(first != std::string::npos);
  CHECK(man.find("\\-\\-help", first + 1) == std::string::npos);
  CHECK(man.find(".SS \"kproxy __") == std::string::npos);
  // No line may start with a quote or dot that roff would take as a request by accident.
  std::istringstream lines(man);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] == '\'') CHECK_MESSAGE(false, line);
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
