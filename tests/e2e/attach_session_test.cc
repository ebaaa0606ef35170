// kproxy attach against the simulator's shared container processes, over WebSocket and SPDY:
// non-tty with piped stdin, tty under a pty (size, resize, terminal restored), kubectl's
// prompt hint (and -q), and the refusals for pods that are not running.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/pty_runner.h"

namespace kproxy::test {
namespace {

constexpr const char* kPod = "web-7d9f5c6b8-abcde";  // sh with stdin, no tty
constexpr const char* kTtyPod = "db-0";              // sh with stdin and a tty
const char* const kProtocols[] = {"websocket", "spdy"};
constexpr const char* kHint = "If you don't see a command prompt, try pressing enter.";

}  // namespace

TEST_SUITE("e2e.exec") {
  TEST_CASE("attach -i (no tty): input reaches the container's shell, its exit code returns") {
    SimCluster c;
    std::string error;
    REQUIRE_MESSAGE(c.Start({}, false, &error), error);
    for (const char* protocol : kProtocols) {
      CAPTURE(std::string(protocol));
      ProcessResult r =
          c.Kproxy({"-v", "1", "attach", "-i", std::string("--protocol=") + protocol, kPod},
                   "echo attached-$((40+2)); echo to-err >&2; exit 4\n");
      INFO(r.Describe());
      CHECK_FALSE(r.timed_out);
      CHECK(r.exit_code == 4);
      CHECK(r.out == "attached-42\n");
      CHECK(r.err.find("to-err\n") != std::string::npos);
      CHECK(r.err.find(kHint) != std::string::npos);
      CHECK(r.err.find(std::string("connected over ") + protocol) != std::string::npos);
      CHECK(r.err.find("command terminated with exit code 4") != std::string::npos);
      // -q: only the remote session's output.
      ProcessResult q =
          c.Kproxy({"attach", "-q", "-i", std::string("--protocol=") + protocol, kPod},
                   "echo quiet; exit 0\n");
      INFO(q.Describe());
      CHECK(q.exit_code == 0);
      CHECK(q.out == "quiet\n");
      CHECK(q.err.find(kHint) == std::string::npos);
    }
  }

  TEST_CASE("attach -it under a pty: size, resize, exit code, terminal modes restored") {
    SimCluster c;
    std::string error;
    REQUIRE_MESSAGE(c.Start({}, false, &error), error);
    for (const char* protocol : kProtocols) {
      CAPTURE(std::string(protocol));
      auto pty = PtySession::Start({KproxyBinary().string(), "-v", "1", "attach", "-it",
                                    std::string("--protocol=") + protocol, kTtyPod},
                                   c.env, 80, 24);
      REQUIRE(pty);
      INFO("pty transcript: " << pty->output());
      REQUIRE(pty->WaitFor(std::string("connected over ") + protocol, 15000));
      pty->Write("echo attached-$((40+2))\n");
      CHECK(pty->WaitFor("attached-42", 10000));
      size_t mark = pty->output().size();
      pty->Write("stty size\n");
      CHECK(pty->WaitFor("24 80", 10000, mark));
      mark = pty->output().size();
      pty->Resize(132, 43);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      pty->Write("stty size\n");
      CHECK(pty->WaitFor("43 132", 10000, mark));
      pty->Write("exit 6\n");
      bool timed_out = false;
      int code = pty->Wait(15000, &timed_out);
      CHECK_FALSE(timed_out);
      CHECK(code == 6);
      CHECK(pty->output().find(kHint) != std::string::npos);
      auto after = pty->Modes();
      REQUIRE(after);
      CHECK(SameModes(*after, pty->initial_modes()));
    }
  }

  TEST_CASE("attach to a pod that is not running: kubectl's errors, no upgrade attempted") {
    SimCluster c;
    std::string error;
    REQUIRE_MESSAGE(c.Start({}, false, &error), error);
    ProcessResult done = c.Kproxy({"-v", "1", "attach", "migrate-x7k2p"});
    INFO(done.Describe());
    CHECK(done.exit_code == 1);
    CHECK(done.err.find("error: cannot attach a container in a completed pod; current phase is "
                        "Succeeded") != std::string::npos);
    CHECK(done.err.find("trying websocket") == std::string::npos);
    ProcessResult exec_done = c.Kproxy({"exec", "migrate-x7k2p", "--", "true"});
    INFO(exec_done.Describe());
    CHECK(exec_done.exit_code == 1);
    CHECK(exec_done.err.find("error: cannot exec into a container in a completed pod; current "
                             "phase is Succeeded") != std::string::npos);
    ProcessResult missing = c.Kproxy({"attach", "no-such-pod"});
    INFO(missing.Describe());
    CHECK(missing.exit_code == 66);
    CHECK(missing.err.find("Error from server (NotFound): pods \"no-such-pod\" not found") !=
          std::string::npos);
  }
}

}  // namespace kproxy::test
