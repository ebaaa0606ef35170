// The completion scripts in the real shells: each script is sourced by bash, zsh and fish from
// Debian's packages, the shell's own completion entry point is driven for a command line, and
// the candidates it ends up with are compared. The scripts call the built kproxy (PATH), which
// reads a test kubeconfig for contexts and asks the cluster simulator for pod names.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/sim_process.h"
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

namespace kproxy::test {
namespace {

namespace fs = std::filesystem;

struct ScriptResult {
  int status = -1;  // exit status, -1 when killed or not run
  std::string out;
  std::string err;
};

// Runs `interpreter script` in `dir` with `env` exported, bounded by `timeout_s`.
ScriptResult RunScript(const fs::path& dir, const std::string& interpreter,
                       const std::string& script, const std::string& env, int timeout_s) {
  static int counter = 0;
  std::string base = (dir / ("script" + std::to_string(++counter))).string();
  std::ofstream(base + ".script") << script;
  std::string cmd = "cd '" + dir.string() + "' && " + env + " timeout -k 5 " +
                    std::to_string(timeout_s) + " " + interpreter + " '" + base +
                    ".script' </dev/null >'" + base + ".out' 2>'" + base + ".err'";
  int raw = std::system(cmd.c_str());
  ScriptResult r;
  if (raw != -1 && WIFEXITED(raw)) r.status = WEXITSTATUS(raw);
  if (r.status == 124 || r.status == 137) r.status = -1;
  r.out = ReadFileOrDie(base + ".out");
  r.err = ReadFileOrDie(base + ".err");
  return r;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    // fish prints "candidate<TAB>description".
    line = line.substr(0, line.find('\t'));
    if (!line.empty()) out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A scratch HOME with a kubeconfig, the three generated scripts and a PATH that finds the
// built kproxy first.
class Shells {
 public:
  // `kubeconfig_text` is written to a file of its own; see also UseKubeconfig.
  explicit Shells(const std::string& kubeconfig_text) {
    fs::path d = dir_.path();
    fs::create_directories(d / "home");
    std::ofstream(d / "kubeconfig") << kubeconfig_text;
    UseKubeconfig(d / "kubeconfig");
    for (const char* shell : {"bash", "zsh", "fish"}) {
      ScriptResult s =
          RunScript(d, "bash", "kproxy completion " + std::string(shell) + "\n", env_, 30);
      REQUIRE(s.status == 0);
      std::ofstream(d / (std::string("kproxy.") + shell)) << s.out;
    }
  }
  // $KUBECONFIG for every later shell (a file that refers to others by relative path).
  void UseKubeconfig(const fs::path& path) {
    env_ = "env -i HOME='" + (dir_.path() / "home").string() + "' PATH='" + BinaryDir().string() +
           ":/usr/bin:/bin' KUBECONFIG='" + path.string() + "' TERM=dumb";
  }

  // The line as typed before TAB ("kproxy ver", "kproxy -n "); a trailing space starts a new
  // word. The line goes through a file so no quoting is involved.
  std::vector<std::string> Bash(const std::string& line) {
    std::ofstream(dir_.path() / "line") << line;
    // bash-completion would fill COMP_WORDS/COMP_CWORD the same way for these simple lines.
    return Run("bash --norc --noprofile",
               "source ./kproxy.bash\n"
               "COMP_LINE=$(<line); COMP_POINT=${#COMP_LINE}\n"
               "read -r -a COMP_WORDS <<< \"$COMP_LINE\"\n"
               "[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')\n"
               "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
               "_kproxy kproxy \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\"\n"
               "printf '%s\\n' \"${COMPREPLY[@]}\"\n");
  }

  // zsh without compinit's widgets: compadd (a zle builtin, unavailable outside a completion
  // widget) is replaced by a function printing what it was given; words/CURRENT are set as
  // the completion system sets them.
  std::vector<std::string> Zsh(const std::string& line) {
    std::ofstream(dir_.path() / "line") << line;
    return Run("zsh -f",
               "compdef() { : }\n"
               "compadd() { while (( $# )) && [[ $1 != -- ]]; do shift; done; shift\n"
               "  print -rl -- \"$@\" }\n"
               "source ./kproxy.zsh\n"
               "line=$(<line)\n"
               "words=(${(z)line}); [[ $line == *' ' ]] && words+=('')\n"
               "CURRENT=${#words}\n"
               "_kproxy\n");
  }

  // fish's own engine: `complete -C LINE` prints what TAB would offer.
  std::vector<std::string> Fish(const std::string& line) {
    std::ofstream(dir_.path() / "line") << line;
    return Run("fish --no-config",
               "source ./kproxy.fish\ncomplete -C (cat line | string collect -N)\n");
  }

  ScriptResult Raw(const std::string& interpreter, const std::string& script) {
    return RunScript(dir_.path(), interpreter, script, env_, 60);
  }
  const fs::path& dir() const { return dir_.path(); }

 private:
  std::vector<std::string> Run(const std::string& interpreter, const std::string& script) {
    ScriptResult r = RunScript(dir_.path(), interpreter, script, env_, 60);
    INFO(interpreter, ": ", r.err);
    CHECK(r.status == 0);
    return Lines(r.out);
  }

  TempDir dir_;
  std::string env_;
};

// Two contexts on a cluster nobody listens on (connections fail at once).
constexpr const char* kTwoContexts = R"(apiVersion: v1
kind: Config
clusters:
- name: c1
  cluster:
    server: https://127.0.0.1:1
contexts:
- name: alpha-ctx
  context:
    cluster: c1
    user: u1
- name: beta-ctx
  context:
    cluster: c1
    user: u1
current-context: alpha-ctx
users:
- name: u1
  user:
    token: not-a-real-token
)";

using V = std::vector<std::string>;

TEST_SUITE("e2e-completion") {
  TEST_CASE("a command name completes in bash, zsh and fish") {
    Shells sh(kTwoContexts);
    CHECK(sh.Bash("kproxy ver") == V{"version"});
    CHECK(sh.Zsh("kproxy ver") == V{"version"});
    CHECK(sh.Fish("kproxy ver") == V{"version"});
    V top = sh.Bash("kproxy ");
    CHECK(std::find(top.begin(), top.end(), "completion") != top.end());
    CHECK(std::find(top.begin(), top.end(), "__complete") == top.end());
    CHECK(sh.Fish("kproxy ") == top);
    CHECK(sh.Zsh("kproxy ") == top);
  }

  TEST_CASE("a flag and its values complete in bash, zsh and fish") {
    Shells sh(kTwoContexts);
    for (auto run : {&Shells::Bash, &Shells::Zsh, &Shells::Fish}) {
      CHECK((sh.*run)("kproxy version --out") == V{"--output"});
      CHECK((sh.*run)("kproxy version -o ") == V{"json", "yaml"});
      CHECK((sh.*run)("kproxy completion ") == V{"bash", "fish", "zsh"});
    }
    // bash replaces only the text after '=' (a COMP_WORDBREAKS character); zsh and fish the
    // whole word.
    CHECK(sh.Bash("kproxy version --output=y") == V{"yaml"});
    CHECK(sh.Zsh("kproxy version --output=y") == V{"--output=yaml"});
    CHECK(sh.Fish("kproxy version --output=y") == V{"--output=yaml"});
  }

  TEST_CASE("contexts come from the kubeconfig in bash, zsh and fish") {
    Shells sh(kTwoContexts);
    for (auto run : {&Shells::Bash, &Shells::Zsh, &Shells::Fish}) {
      CHECK((sh.*run)("kproxy --context ") == V{"alpha-ctx", "beta-ctx"});
      CHECK((sh.*run)("kproxy version --context b") == V{"beta-ctx"});
    }
    // --kubeconfig on the line being completed wins over $KUBECONFIG, as for the command.
    std::ofstream(sh.dir() / "other.yaml") << R"(apiVersion: v1
kind: Config
contexts:
- name: gamma-ctx
  context: {cluster: c1, user: u1}
)";
    CHECK(sh.Bash("kproxy --kubeconfig other.yaml --context ") == V{"gamma-ctx"});
  }

  TEST_CASE("pod and container names come from the cluster simulator") {
    std::string error;
    std::unique_ptr<SimProcess> sim = SimProcess::Start(SimOptions{}, &error);
    REQUIRE_MESSAGE(sim, error);
    Shells sh(kTwoContexts);
    sh.UseKubeconfig(sim->kubeconfig());
    const V web = {"web-7d9f5c6b8-abcde", "web-7d9f5c6b8-fghij"};
    for (auto run : {&Shells::Bash, &Shells::Zsh, &Shells::Fish}) {
      CHECK((sh.*run)("kproxy get pods web") == web);
      CHECK((sh.*run)("kproxy --context sim get pods d") == V{"db-0"});
    }
    // Containers of the pod on the line, namespaces of the cluster, the pod in TYPE/NAME form.
    CHECK(sh.Bash("kproxy exec multi -c ") == V{"app", "sidecar"});
    CHECK(sh.Zsh("kproxy exec pod/multi -c s") == V{"sidecar"});
    CHECK(sh.Fish("kproxy exec pod/d") == V{"pod/db-0"});
    CHECK(sh.Bash("kproxy get pods -n ") == V{"default", "kube-system", "prod"});
    // The same through the access-proxy route, with the ready-made session in the kubeconfig.
    CHECK(sh.Bash("kproxy --context proxy exec web") == web);
    // A user the simulator refuses to list pods for gets nothing, not an error on the prompt.
    CHECK(sh.Bash("kproxy --context sim-bob -n prod exec ").empty());
    V contexts = sh.Bash("kproxy --context ");
    CHECK(std::find(contexts.begin(), contexts.end(), "sim") != contexts.end());
    CHECK(std::find(contexts.begin(), contexts.end(), "proxy") != contexts.end());
    CHECK(sim->Stop());
  }

  TEST_CASE("an unreachable cluster gives no candidates, quickly and quietly") {
    Shells sh(kTwoContexts);
    ScriptResult r = sh.Raw("bash", "time -p kproxy __complete -n ''\n");
    CHECK(r.status == 0);
    CHECK(r.out.empty());
    // Only `time`'s own report on stderr: kproxy itself says nothing.
    CHECK(r.err.find("real") != std::string::npos);
    CHECK(r.err.find("error") == std::string::npos);
  }

  TEST_CASE("a server that never answers costs at most the 2 s lookup budget") {
    // A listener that accepts TCP (the kernel's backlog) but never speaks TLS.
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(fd, 8) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    std::string server = "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
    Shells sh(std::string(kTwoContexts)
                  .replace(std::string(kTwoContexts).find("https://127.0.0.1:1"),
                           std::string("https://127.0.0.1:1").size(), server));
    auto start = std::chrono::steady_clock::now();
    CHECK(sh.Bash("kproxy exec ").empty());
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    close(fd);
    CHECK(seconds >= 1.5);  // it did wait for the server (the test is not vacuous)...
    CHECK(seconds < 6.0);   // ...but not longer than the budget (plus shell start-up)
  }

  TEST_CASE("kubectl completes `kubectl kproxy` through kubectl_complete-kproxy") {
    Shells sh(kTwoContexts);
    ScriptResult r = sh.Raw("bash", "export PATH='" + (SourceDir() / "packaging").string() +
                                        ":'\"$PATH\"\nkubectl __complete kproxy ver\n");
    CHECK(r.status == 0);
    // kubectl adds its directive line (":0") after the plugin's candidates.
    CHECK(Lines(r.out) == V{":0", "version"});
  }
}

}  // namespace
}  // namespace kproxy::test
