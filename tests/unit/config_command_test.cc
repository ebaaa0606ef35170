// `kproxy config ...` on buffers via RunCli. Expected output comes from real kubectl: bytes
// recorded in tests/data/kubeconfig/good-view.kubectl-*, and (conformance suite) a live run.
#include <doctest/doctest.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <sstream>

#include "cli/command.h"
#include "core/base/exit_code.h"
#include "tests/unit/kubeconfig_test_util.h"

namespace kproxy::cli {
namespace {

namespace fs = std::filesystem;
using test::ReadFileOrDie;
using test::TempDir;
using test::WriteFile;

struct Run {
  int status;
  std::string out, err;
};

Run RunArgs(std::vector<std::string> args) {
  std::vector<const char*> argv = {"kproxy"};
  for (const auto& a : args) argv.push_back(a.c_str());
  std::istringstream in;
  std::ostringstream out, err;
  CommandIO io{in, out, err};
  int status = RunCli(static_cast<int>(argv.size()), argv.data(), io);
  return {status, out.str(), err.str()};
}

// Sets $KUBECONFIG for one test and restores the previous value.
class ScopedKubeconfigEnv {
 public:
  explicit ScopedKubeconfigEnv(const std::string& value) {
    if (const char* old = getenv("KUBECONFIG")) old_ = old;
    setenv("KUBECONFIG", value.c_str(), 1);
  }
  ~ScopedKubeconfigEnv() {
    if (old_) {
      setenv("KUBECONFIG", old_->c_str(), 1);
    } else {
      unsetenv("KUBECONFIG");
    }
  }

 private:
  std::optional<std::string> old_;
};

fs::path Data(const char* name) { return test::SourceDir() / "tests/data/kubeconfig" / name; }

TEST_CASE("config view matches kubectl byte for byte") {
  const std::string file = Data("good-view.yaml").string();
  auto view = RunArgs({"config", "view", "--kubeconfig", file});
  CHECK(view.status == 0);
  CHECK(view.err.empty());
  CHECK(view.out == ReadFileOrDie(Data("good-view.kubectl-view.txt")));

  auto raw = RunArgs({"config", "view", "--kubeconfig", file, "--raw", "-o", "json"});
  CHECK(raw.status == 0);
  CHECK(raw.out == ReadFileOrDie(Data("good-view.kubectl-view-raw.json")));

  auto minify = RunArgs({"config", "view", "--kubeconfig", file, "--minify", "--context", "ctx-b"});
  CHECK(minify.status == 0);
  CHECK(minify.out == ReadFileOrDie(Data("good-view.kubectl-minify-ctx-b.txt")));

  auto contexts = RunArgs({"config", "get-contexts", "--kubeconfig", file});
  CHECK(contexts.status == 0);
  CHECK(contexts.out == ReadFileOrDie(Data("good-view.kubectl-get-contexts.txt")));
}

TEST_CASE("config view hides secrets unless --raw") {
  TempDir dir;
  auto file = WriteFile(dir.path() / "k.yaml",
                        "current-context: x\n"
                        "users:\n- name: u\n  user:\n    token: tok-visible-1\n"
                        "    password: pw-visible-2\n    client-key-data: S0VZLVNFQ1JFVA==\n"
                        "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
                        "      command: p\n      env:\n      - {name: GITHUB_TOKEN, "
                        "value: env-tok-3}\n      - {name: MODE, value: plain-4}\n");
  auto view = RunArgs({"config", "view", "--kubeconfig", file});
  CHECK(view.status == 0);
  for (const char* secret : {"tok-visible-1", "pw-visible-2", "S0VZLVNFQ1JFVA==", "env-tok-3"})
    CHECK(view.out.find(secret) == std::string::npos);
  CHECK(view.out.find("client-key-data: DATA+OMITTED") != std::string::npos);
  CHECK(view.out.find("value: plain-4") != std::string::npos);
  auto raw = RunArgs({"config", "view", "--kubeconfig", file, "--raw"});
  for (const char* secret : {"tok-visible-1", "pw-visible-2", "S0VZLVNFQ1JFVA==", "env-tok-3"})
    CHECK(raw.out.find(secret) != std::string::npos);
}

TEST_CASE("config view errors") {
  TempDir dir;
  auto empty = WriteFile(dir.path() / "e.yaml", "clusters: []\n");
  auto r = RunArgs({"config", "view", "--kubeconfig", empty, "--minify"});
  CHECK(r.status == exit_status::kConfig);
  CHECK(r.err == "error: current-context must exist in order to minify\n");
  auto bad = RunArgs({"config", "view", "--kubeconfig", Data("bad-password-bool.yaml").string()});
  CHECK(bad.status == exit_status::kConfig);
  CHECK(bad.out.empty());
  CHECK(bad.err.rfind("error: error loading config file \"", 0) == 0);
  CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
  auto format = RunArgs({"config", "view", "-o", "xml"});
  CHECK(format.status == exit_status::kUsage);
}

TEST_CASE("config get-contexts NAME and -o name") {
  const std::string file = Data("good-view.yaml").string();
  auto one = RunArgs({"config", "get-contexts", "ctx-b", "--kubeconfig", file});
  CHECK(one.status == 0);
  CHECK(one.out ==
        "CURRENT   NAME    CLUSTER   AUTHINFO   NAMESPACE\n"
        "          ctx-b   c2        u2         \n");
  auto names = RunArgs({"config", "get-contexts", "-o", "name", "--kubeconfig", file});
  CHECK(names.out == "ctx-a\nctx-b\nctx-c\n");
  auto missing = RunArgs({"config", "get-contexts", "nope", "--kubeconfig", file});
  CHECK(missing.status == exit_status::kNotFound);
  CHECK(missing.out == "CURRENT   NAME   CLUSTER   AUTHINFO   NAMESPACE\n");
  CHECK(missing.err == "error: context nope not found\n");
}

TEST_CASE("config current-context") {
  TempDir dir;
  auto set = WriteFile(dir.path() / "s.yaml", "current-context: prod\n");
  auto unset = WriteFile(dir.path() / "u.yaml", "clusters: []\n");
  auto r = RunArgs({"config", "current-context", "--kubeconfig", set});
  CHECK(r.status == 0);
  CHECK(r.out == "prod\n");
  r = RunArgs({"config", "current-context", "--kubeconfig", unset});
  CHECK(r.status == exit_status::kConfig);
  CHECK(r.err == "error: current-context is not set\n");
  ScopedKubeconfigEnv env(unset + ":" + set);
  r = RunArgs({"config", "current-context"});
  CHECK(r.out == "prod\n");
}

const char* const kTwoContexts =
    "# team kubeconfig -- keep this comment\n"
    "apiVersion: v1\n"
    "clusters:\n- name: c\n  cluster: {server: 'https://x'}  # inline comment\n"
    "contexts:\n- name: dev\n  context: {cluster: c}\n- name: prod\n  context: {cluster: c}\n"
    "current-context: dev\n"
    "kind: Config\n";

TEST_CASE("config use-context edits only the current-context line, atomically") {
  TempDir dir;
  auto file = WriteFile(dir.path() / "k.yaml", kTwoContexts);
  ::chmod(file.c_str(), 0640);
  auto r = RunArgs({"config", "use-context", "prod", "--kubeconfig", file});
  CHECK(r.status == 0);
  CHECK(r.out == "Switched to context \"prod\".\n");
  std::string want = kTwoContexts;
  want.replace(want.find("current-context: dev"), 20, "current-context: prod");
  CHECK(ReadFileOrDie(file) == want);
  struct stat st;
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  // No temp files left behind.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) entries += e.is_regular_file();
  CHECK(entries == 1);

  r = RunArgs({"config", "use-context", "nope", "--kubeconfig", file});
  CHECK(r.status == exit_status::kNotFound);
  CHECK(r.err == "error: no context exists with the name: \"nope\"\n");
  CHECK(ReadFileOrDie(file) == want);
}

TEST_CASE("config use-context writes to the file that owns current-context") {
  TempDir dir;
  const std::string contexts_only =
      "contexts:\n- name: a\n  context: {cluster: c}\n- name: b\n  context: {cluster: c}\n";
  auto first = WriteFile(dir.path() / "first.yaml", contexts_only);
  auto second = WriteFile(dir.path() / "second.yaml", "current-context: a\n");
  {
    ScopedKubeconfigEnv env(first + ":" + second);
    auto r = RunArgs({"config", "use-context", "b"});
    CHECK(r.status == 0);
    CHECK(ReadFileOrDie(first) == contexts_only);
    CHECK(ReadFileOrDie(second) == "current-context: b\n");
  }
  // Nobody sets it: the first file gets the line appended.
  auto third = WriteFile(dir.path() / "third.yaml", "clusters: []");
  {
    ScopedKubeconfigEnv env(third + ":" + first);
    auto r = RunArgs({"config", "use-context", "a"});
    CHECK(r.status == 0);
    CHECK(ReadFileOrDie(third) == "clusters: []\ncurrent-context: a\n");
    CHECK(ReadFileOrDie(first) == contexts_only);
  }
}

TEST_CASE("config use-context on JSON and oddly laid out files") {
  TempDir dir;
  auto json = WriteFile(dir.path() / "k.json",
                        R"({"apiVersion":"v1","current-context":"a","contexts":[)"
                        R"({"name":"a","context":{"cluster":"c"}},{"name":"b o","context":{}}]})");
  auto r = RunArgs({"config", "use-context", "b o", "--kubeconfig", json});
  CHECK(r.status == 0);
  auto check = RunArgs({"config", "current-context", "--kubeconfig", json});
  CHECK(check.out == "b o\n");
  CHECK(ReadFileOrDie(json).find("\"apiVersion\": \"v1\"") != std::string::npos);

  // A value continued on the next line, and a context name that needs quoting.
  auto yaml = WriteFile(dir.path() / "k.yaml",
                        "current-context:\n  a\ncontexts:\n- name: a\n  context: {}\n"
                        "- name: 'yes'\n  context: {}\n");
  r = RunArgs({"config", "use-context", "yes", "--kubeconfig", yaml});
  CHECK(r.status == 0);
  CHECK(ReadFileOrDie(yaml) ==
        "current-context: \"yes\"\ncontexts:\n- name: a\n  context: {}\n"
        "- name: 'yes'\n  context: {}\n");
}

// Live comparison with the kubectl on PATH (bounded); the conformance suite requires kubectl.
std::string Capture(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

TEST_SUITE("conformance-kubeconfig") {
  TEST_CASE("kproxy config view/get-contexts equal real kubectl's on merged files") {
    TempDir dir;
    const std::string good = Data("good-view.yaml").string();
    auto extra =
        WriteFile(dir.path() / "extra.yaml",
                  "current-context: other\nclusters:\n- name: c1\n  cluster: {server: https://"
                  "shadowed}\n- name: z\n  cluster: {server: 'https://z', "
                  "insecure-skip-tls-verify: true}\ncontexts:\n- name: other\n  context: "
                  "{cluster: z, namespace: zz}\n");
    const std::string list = good + ":" + extra + ":" + (dir.path() / "missing").string();
    ScopedKubeconfigEnv env(list);
    for (std::vector<std::string> args :
         {std::vector<std::string>{"config", "view"},
          {"config", "view", "--minify"},
          {"config", "view", "--minify", "--context", "other", "-o", "json"},
          {"config", "view", "--raw"},
          {"config", "get-contexts"},
          {"config", "get-contexts", "-o", "name"},
          {"config", "current-context"}}) {
      std::string joined;
      for (const auto& a : args) joined += " '" + a + "'";
      CAPTURE(joined);
      auto ours = RunArgs(args);
      CHECK(ours.status == 0);
      CHECK(ours.out == Capture("KUBECONFIG='" + list + "' timeout 30 kubectl" + joined));
    }
  }
}

}  // namespace
}  // namespace kproxy::cli
