// The packages as a user gets them: cpack builds the .deb/.rpm/.tar.gz from this build tree,
// then dpkg and rpm (not our own code) report what is inside, the .deb is installed into an
// empty root with dpkg, and the installed kproxy, its man page and the kubectl plugin link run.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "tests/support/test_env.h"

namespace kproxy::test {
namespace {

namespace fs = std::filesystem;

struct ScriptResult {
  int status = -1;  // exit status, -1 when killed or not run
  std::string out;
  std::string err;
};

// Runs a bash script in `dir`, bounded by `timeout_s` (then SIGKILL). The script is a file so
// no quoting is involved.
ScriptResult RunScript(const fs::path& dir, const std::string& script, int timeout_s) {
  static int counter = 0;
  std::string base = (dir / ("script" + std::to_string(++counter))).string();
  std::ofstream(base + ".sh") << "set -u\n" << script;
  std::string cmd = "cd '" + dir.string() + "' && timeout -k 5 " + std::to_string(timeout_s) +
                    " bash '" + base + ".sh' </dev/null >'" + base + ".out' 2>'" + base + ".err'";
  int raw = std::system(cmd.c_str());
  ScriptResult r;
  if (raw != -1 && WIFEXITED(raw)) r.status = WEXITSTATUS(raw);
  if (r.status == 124 || r.status == 137) r.status = -1;  // timeout(1) fired
  r.out = ReadFileOrDie(base + ".out");
  r.err = ReadFileOrDie(base + ".err");
  return r;
}

// The packages, built once per test run into a temporary directory.
struct Packages {
  TempDir dir;
  ScriptResult build;
  fs::path deb, rpm, tgz;
};

Packages& Built() {
  static Packages p;
  static bool done = false;
  if (done) return p;
  done = true;
  p.build = RunScript(p.dir.path(),
                      "cpack --config '" + (BinaryDir() / "CPackConfig.cmake").string() + "' -B '" +
                          p.dir.path().string() + "' -G 'DEB;RPM;TGZ'\n",
                      300);
  for (const auto& e : fs::directory_iterator(p.dir.path())) {
    std::string name = e.path().filename().string();
    if (name.ends_with(".deb")) p.deb = e.path();
    if (name.ends_with(".rpm")) p.rpm = e.path();
    if (name.ends_with(".tar.gz")) p.tgz = e.path();
  }
  return p;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The Debian packages that provide the shared libraries the built kproxy links directly
// (its ELF NEEDED entries, resolved to paths by ldd, owners by dpkg -S), so the check follows
// the binary, not a list of ours. Libraries only needed by those libraries are their business.
std::set<std::string> PackagesOfLinkedLibraries(const fs::path& dir) {
  std::string bin = (BinaryDir() / "kproxy").string();
  ScriptResult r = RunScript(dir,
                             "ldd '" + bin +
                                 "' > ldd.txt\n"
                                 "objdump -p '" +
                                 bin +
                                 "' | awk '$1 == \"NEEDED\" {print $2}' |\n"
                                 "while read -r soname; do\n"
                                 "  lib=$(awk -v s=\"$soname\" '$1 == s && $3 ~ /^\\// {print $3}' "
                                 "ldd.txt)\n"
                                 "  [ -n \"$lib\" ] || continue\n"
                                 "  real=$(readlink -f \"$lib\")\n"
                                 "  dpkg -S \"$lib\" 2>/dev/null || dpkg -S \"$real\" "
                                 "2>/dev/null || dpkg -S \"/usr$real\"\n"
                                 "done | cut -d: -f1 | sort -u\n",
                             60);
  std::set<std::string> out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) out.insert(line);
  return out;
}

TEST_SUITE("e2e-package") {
  TEST_CASE("cpack builds a .deb, an .rpm and a .tar.gz") {
    Packages& p = Built();
    INFO(p.build.out, p.build.err);
    REQUIRE(p.build.status == 0);
    CHECK(!p.deb.empty());
    CHECK(!p.rpm.empty());
    CHECK(!p.tgz.empty());
  }

  TEST_CASE("the .deb's files and dependencies as dpkg-deb reports them") {
    Packages& p = Built();
    REQUIRE(!p.deb.empty());
    ScriptResult files = RunScript(p.dir.path(), "dpkg-deb -c '" + p.deb.string() + "'\n", 60);
    REQUIRE(files.status == 0);
    for (const char* path :
         {"./usr/bin/kproxy", "./usr/bin/kubectl-kproxy -> kproxy",
          "./usr/bin/kubectl_complete-kproxy", "./usr/share/bash-completion/completions/kproxy",
          "./usr/share/zsh/vendor-completions/_kproxy",
          "./usr/share/fish/vendor_completions.d/kproxy.fish", "./usr/share/man/man1/kproxy.1.gz"})
      CHECK_MESSAGE(Contains(files.out, path), path);
    // Every path README.md's install table promises is in the package.
    std::string readme = ReadFileOrDie(SourceDir() / "README.md");
    std::regex row("\\| `(/usr/[^`]+)`");
    int rows = 0;
    for (auto it = std::sregex_iterator(readme.begin(), readme.end(), row);
         it != std::sregex_iterator(); ++it, ++rows)
      CHECK_MESSAGE(Contains(files.out, " ." + (*it)[1].str()), (*it)[1].str());
    CHECK(rows >= 7);
    // Installed where kubectl and the shells look, nothing under /usr/local or the build tree.
    CHECK(!Contains(files.out, "/usr/local"));
    CHECK(!Contains(files.out, BinaryDir().string()));

    ScriptResult info = RunScript(
        p.dir.path(), "dpkg-deb -f '" + p.deb.string() + "' Package Version Depends\n", 60);
    REQUIRE(info.status == 0);
    CHECK(Contains(info.out, "Package: kproxy"));
    std::smatch m;
    REQUIRE(std::regex_search(info.out, m, std::regex("Depends: ([^\n]*)")));
    std::set<std::string> depends;
    std::string list = m[1];
    std::regex name("(^|, *| *\\| *)([a-z0-9][a-z0-9+.-]+)");
    for (auto it = std::sregex_iterator(list.begin(), list.end(), name);
         it != std::sregex_iterator(); ++it)
      depends.insert((*it)[2]);
    std::set<std::string> needed = PackagesOfLinkedLibraries(p.dir.path());
    REQUIRE(!needed.empty());
    for (const std::string& pkg : needed) CHECK_MESSAGE(depends.count(pkg) == 1, pkg, " ", list);
    CHECK(depends.count("libc6") == 1);
    // dlopen'ed, so invisible to dpkg-shlibdeps: named explicitly (packaging/CPackConfig.cmake).
    CHECK(depends.count("libcurl4") == 1);
  }

  TEST_CASE("dpkg installs the .deb into an empty root; kproxy, its man page and the plugin run") {
    Packages& p = Built();
    REQUIRE(!p.deb.empty());
    TempDir root;
    fs::path r = root.path();
    // A clean root: an empty dpkg database and nothing else. The libraries kproxy needs come
    // from the host, so dependencies are forced; everything else is dpkg's own install.
    ScriptResult install =
        RunScript(r,
                  "mkdir -p root/var/lib/dpkg/info root/var/lib/dpkg/updates\n"
                  ": > root/var/lib/dpkg/status\n"
                  "dpkg --root=\"$PWD/root\" --force-depends --force-script-chrootless -i '" +
                      p.deb.string() +
                      "'\n"
                      "dpkg --root=\"$PWD/root\" -L kproxy\n",
                  120);
    INFO(install.out, install.err);
    REQUIRE(install.status == 0);
    CHECK(Contains(install.out, "/usr/share/man/man1/kproxy.1.gz"));
    fs::path bin = r / "root/usr/bin";
    CHECK(fs::is_symlink(bin / "kubectl-kproxy"));
    CHECK(fs::read_symlink(bin / "kubectl-kproxy") == "kproxy");

    ScriptResult version = RunScript(r, "'" + (bin / "kproxy").string() + "' version\n", 30);
    CHECK(version.status == 0);
    CHECK(Contains(version.out, "Client Version: v" KPROXY_VERSION));

    // The packaged man page renders without groff warnings; no pager, fixed width.
    ScriptResult man = RunScript(r,
                                 "MANWIDTH=80 MANPAGER=cat PAGER=cat man --warnings -l "
                                 "root/usr/share/man/man1/kproxy.1.gz\n",
                                 60);
    CHECK(man.status == 0);
    CHECK(man.err.empty());
    CHECK(Contains(man.out, "KPROXY(1)"));
    CHECK(Contains(man.out, "EXIT STATUS"));
    CHECK(Contains(man.out, "kproxy version"));
    CHECK(Contains(man.out, "KUBECONFIG"));

    // kubectl's plugin mechanism: kubectl-kproxy on PATH makes `kubectl kproxy` run it.
    ScriptResult plugin = RunScript(r,
                                    "export PATH=\"" + bin.string() +
                                        ":$PATH\"\nkubectl kproxy version\n"
                                        "kubectl plugin list 2>/dev/null | grep kubectl-kproxy\n",
                                    60);
    INFO(plugin.err);
    CHECK(plugin.status == 0);
    CHECK(Contains(plugin.out, "Client Version: v" KPROXY_VERSION));
    CHECK(Contains(plugin.out, (bin / "kubectl-kproxy").string()));

    // The installed completion scripts are the ones the installed binary prints.
    const std::pair<std::string, std::string> installed[] = {
        {"bash", "usr/share/bash-completion/completions/kproxy"},
        {"zsh", "usr/share/zsh/vendor-completions/_kproxy"},
        {"fish", "usr/share/fish/vendor_completions.d/kproxy.fish"}};
    // (Not a structured binding: clang cannot capture those in doctest's message lambda.)
    for (const auto& entry : installed) {
      const std::string& shell = entry.first;
      ScriptResult printed =
          RunScript(r, "'" + (bin / "kproxy").string() + "' completion " + shell + "\n", 30);
      CHECK_MESSAGE(printed.out == ReadFileOrDie(r / "root" / entry.second), shell);
    }
  }

  TEST_CASE("each shell finds the installed completion where the package put it") {
    Packages& p = Built();
    REQUIRE(!p.deb.empty());
    TempDir root;
    fs::path r = root.path();
    REQUIRE(RunScript(r, "mkdir home && dpkg -x '" + p.deb.string() + "' root\n", 60).status == 0);
    // A clean user: no rc files; the shells look in XDG_DATA_DIRS (bash-completion, fish) and
    // $fpath (zsh; Debian's zsh has /usr/share/zsh/vendor-completions on it).
    std::string env =
        "export HOME=\"$PWD/home\" PATH=\"$PWD/root/usr/bin:/usr/bin:/bin\" "
        "XDG_DATA_DIRS=\"$PWD/root/usr/share\"\n";

    // bash-completion loads completions on demand by command name.
    ScriptResult bash = RunScript(
        r,
        env +
            "cat > t.bash <<'EOF'\n"
            "source /usr/share/bash-completion/bash_completion\n"
            "for cmd in kproxy kubectl-kproxy; do\n"
            "  __load_completion \"$cmd\" || echo \"not loaded: $cmd\"\n"
            "  COMP_LINE=\"$cmd ver\"; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(\"$cmd\" ver)\n"
            "  COMP_CWORD=1; COMPREPLY=()\n"
            "  \"$(complete -p \"$cmd\" | sed 's/.*-F \\([^ ]*\\) .*/\\1/')\" \"$cmd\" ver "
            "\"$cmd\"\n"
            "  echo \"$cmd: ${COMPREPLY[*]}\"\n"
            "done\n"
            "EOF\n"
            "bash --norc --noprofile t.bash\n",
        60);
    INFO(bash.err);
    CHECK(bash.out == "kproxy: version\nkubectl-kproxy: version\n");

    // zsh's compinit finds _kproxy by its #compdef line; compadd is replaced to print.
    ScriptResult zsh =
        RunScript(r,
                  env +
                      "zsh -f -c 'fpath=(\"$PWD/root/usr/share/zsh/vendor-completions\" $fpath)\n"
                      "autoload -U compinit; compinit -u -d \"$HOME/zcompdump\"\n"
                      "print -r -- \"$_comps[kproxy] $_comps[kubectl-kproxy]\"\n"
                      "compadd() { while (( $# )) && [[ $1 != -- ]]; do shift; done; shift; "
                      "print -rl -- \"$@\" }\n"
                      "words=(kproxy ver); CURRENT=2; $_comps[kproxy]'\n",
                  60);
    INFO(zsh.err);
    CHECK(zsh.out == "_kproxy _kproxy\nversion\n");

    // fish autoloads vendor_completions.d/<command>.fish.
    ScriptResult fish = RunScript(
        r, env + "fish -c 'complete -C \"kproxy ver\"; complete -C \"kubectl-kproxy ver\"'\n", 60);
    INFO(fish.err);
    CHECK(fish.out == "version\nversion\n");
  }

  TEST_CASE("the .rpm's files and requirements as rpm reports them") {
    Packages& p = Built();
    REQUIRE(!p.rpm.empty());
    ScriptResult files = RunScript(p.dir.path(), "rpm -qpl '" + p.rpm.string() + "'\n", 60);
    REQUIRE(files.status == 0);
    for (const char* path : {"/usr/bin/kproxy\n", "/usr/bin/kubectl-kproxy\n",
                             "/usr/share/bash-completion/completions/kproxy\n",
                             "/usr/share/zsh/vendor-completions/_kproxy\n",
                             "/usr/share/fish/vendor_completions.d/kproxy.fish\n",
                             "/usr/share/man/man1/kproxy.1.gz\n"})
      CHECK_MESSAGE(Contains(files.out, path), path);
    // Directories owned by the filesystem and shell packages are not claimed.
    CHECK(!Contains(files.out, "/usr/share/man/man1\n"));
    CHECK(!Contains(files.out, "/usr/bin\n"));
    ScriptResult reqs = RunScript(p.dir.path(), "rpm -qpR '" + p.rpm.string() + "'\n", 60);
    REQUIRE(reqs.status == 0);
    for (const char* req : {"libcurl", "openssl-libs", "libwebsockets", "yaml-cpp", "zlib"})
      CHECK_MESSAGE(Contains(reqs.out, std::string(req) + "\n"), req);
  }

  TEST_CASE("the .tar.gz holds the same tree") {
    Packages& p = Built();
    REQUIRE(!p.tgz.empty());
    TempDir out;
    ScriptResult r = RunScript(out.path(),
                               "tar xzf '" + p.tgz.string() +
                                   "'\n./*/bin/kproxy version\nreadlink ./*/bin/kubectl-kproxy\n"
                                   "ls ./*/share/man/man1 ./*/share/zsh/vendor-completions\n",
                               60);
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(Contains(r.out, "Client Version: v" KPROXY_VERSION));
    CHECK(Contains(r.out, "kproxy\n"));
    CHECK(Contains(r.out, "kproxy.1.gz"));
    CHECK(Contains(r.out, "_kproxy"));
  }
}

}  // namespace
}  // namespace kproxy::test
