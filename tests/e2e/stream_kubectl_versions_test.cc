// tests/support/kubectl_versions: finding kubectl.1.27 … 1.33 and running children bounded.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>

#include "tests/support/kubectl_versions.h"
#include "tests/support/test_env.h"

namespace kproxy::test {

TEST_SUITE("sim.streaming") {
  TEST_CASE("kubectl versions: found beside each other, missing ones reported as skips") {
    TempDir dir;
    for (const char* name : {"kubectl.1.28", "kubectl.1.33", "kubectl.1.30"}) {
      std::string path = (dir.path() / name).string();
      std::ofstream(path) << "#!/bin/sh\n";
      chmod(path.c_str(),
            name == std::string("kubectl.1.30") ? 0644 : 0755);  // 1.30 not executable
    }
    setenv("KPROXY_KUBECTL_DIR", dir.path().c_str(), 1);
    KubectlVersions v = FindKubectlVersions();
    unsetenv("KPROXY_KUBECTL_DIR");
    REQUIRE(v.found.size() == 2);
    CHECK(v.found[0].minor == 28);
    CHECK(v.found[1].name() == "kubectl.1.33");
    CHECK(v.Find(33) != nullptr);
    CHECK(v.Find(30) == nullptr);
    CHECK(v.missing == std::vector<std::string>{"kubectl.1.27", "kubectl.1.29", "kubectl.1.30",
                                                "kubectl.1.31", "kubectl.1.32"});
    CHECK(v.SkipNotes().front() == "skipped: kubectl.1.27 not installed");
  }

  TEST_CASE("RunChild: stdin, stdout, stderr, exit code, timeout kills the group") {
    ChildResult r = RunChild({"/bin/sh", "-c", "cat; echo err >&2; exit 4"}, {"X=1"}, "in\n", 5000);
    CHECK(r.exit_code == 4);
    CHECK(r.out == "in\n");
    CHECK(r.err == "err\n");
    CHECK(!r.timed_out);
    r = RunChild({"/bin/sh", "-c", "echo $X"}, {"X=from-env"}, "", 5000);
    CHECK(r.out == "from-env\n");
    auto start = std::chrono::steady_clock::now();
    r = RunChild({"/bin/sh", "-c", "sleep 30 & sleep 30"}, {}, "", 300);
    CHECK(r.timed_out);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  }

  TEST_CASE("PtyChild: the child sees a terminal of the given size and its resize") {
    auto c = PtyChild::Start({"/bin/sh", "-c", "stty size; read x; stty size"}, {}, 90, 33);
    REQUIRE(c);
    CHECK(c->WaitFor("33 90", 5000));
    c->Resize(100, 44);
    c->Write("\n");
    CHECK(c->WaitFor("44 100", 5000));
    CHECK(c->Wait(5000).exit_code == 0);
  }
}

}  // namespace kproxy::test
