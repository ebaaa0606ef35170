// kproxy exec -it under a real pty (the test is the terminal), over WebSocket and SPDY:
// `stty size` before and after a resize (TIOCSWINSZ → SIGWINCH → resize message), Ctrl-C
// reaching the remote process group instead of killing kproxy, raw mode during the session
// and the exact terminal modes restored afterwards — also when the connection drops.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/e2e_start.h"

namespace kproxy::test {
namespace {

constexpr const char* kPod = "web-7d9f5c6b8-abcde";
const char* const kProtocols[] = {"websocket", "spdy"};

std::unique_ptr<PtySession> StartExec(const SimCluster& c, const std::string& protocol,
                                      const std::vector<std::string>& command) {
  std::vector<std::string> args = {"-v", "1", "exec", "--protocol=" + protocol, "-it", kPod, "--"};
  args.insert(args.end(), command.begin(), command.end());
  return c.Pty(args);
}

// Raw mode as kubectl's term package sets it: no echo, no canonical input, no signals.
bool LooksRaw(const termios& t) {
  return !(t.c_lflag & ICANON) && !(t.c_lflag & ECHO) && !(t.c_lflag & ISIG);
}

}  // namespace

TEST_SUITE("e2e.exec") {
  TEST_CASE("exec -it: stty size, resize, raw mode during, terminal modes restored after") {
    SimCluster c;
    RequireStarted(c);
    for (const char* protocol : kProtocols) {
      CAPTURE(std::string(protocol));
      // A fixed prompt whoever runs the tests (root's sh would print "# ").
      auto pty = StartExec(c, protocol, {"env", "PS1=sim$ ", "sh"});
      REQUIRE(pty);
      INFO("pty transcript: " << pty->output());
      REQUIRE(pty->WaitFor("sim$ ", 15000));
      CHECK(pty->output().find(std::string("connected over ") + protocol) != std::string::npos);
      auto during = pty->Modes();
      REQUIRE(during);
      CHECK(LooksRaw(*during));
      CHECK(!LooksRaw(pty->initial_modes()));

      size_t mark = pty->output().size();
      pty->Write("stty size\n");
      CHECK(pty->WaitFor("24 80", 10000, mark));
      mark = pty->output().size();
      pty->Resize(120, 40);
      // The resize message travels before the next keystrokes, but give SIGWINCH its turn.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      pty->Write("stty size\n");
      CHECK(pty->WaitFor("40 120", 10000, mark));
      mark = pty->output().size();
      pty->Resize(100, 30);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      pty->Write("stty size\n");
      CHECK(pty->WaitFor("30 100", 10000, mark));

      pty->Write("exit 5\n");
      bool timed_out = false;
      int code = pty->Wait(15000, &timed_out);
      CHECK_FALSE(timed_out);
      CHECK(code == 5);
      auto after = pty->Modes();
      REQUIRE(after);
      CHECK(SameModes(*after, pty->initial_modes()));
    }
  }

  TEST_CASE("exec -it: Ctrl-C reaches the remote process, kproxy keeps running") {
    SimCluster c;
    RequireStarted(c);
    for (const char* protocol : kProtocols) {
      CAPTURE(std::string(protocol));
      auto pty = StartExec(c, protocol,
                           {"sh", "-c",
                            "trap 'echo got-int' INT; echo ready; sleep 5; echo after-sleep; "
                            "read l; echo \"read:$l\"; exit 9"});
      REQUIRE(pty);
      INFO("pty transcript: " << pty->output());
      REQUIRE(pty->WaitFor("ready", 15000));
      // Let `sleep` start: a SIGINT in sh's fork-to-exec window is taken by the child's copy
      // of the trap handler and lost, and sh would run its trap only after the sleep.
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      auto sent = std::chrono::steady_clock::now();
      pty->Write("\x03");  // the VINTR byte: the remote pty turns it into SIGINT
      CHECK(pty->WaitFor("got-int", 4000));
      CHECK(std::chrono::steady_clock::now() - sent < std::chrono::milliseconds(4000));
      CHECK(pty->WaitFor("after-sleep", 5000));
      pty->Write("still-here\n");
      CHECK(pty->WaitFor("read:still-here", 5000));
      bool timed_out = false;
      int code = pty->Wait(15000, &timed_out);
      CHECK_FALSE(timed_out);
      CHECK(code == 9);
      auto after = pty->Modes();
      REQUIRE(after);
      CHECK(SameModes(*after, pty->initial_modes()));
    }
  }

  TEST_CASE("exec -it: connection dropped mid-stream; message, exit 69, terminal restored") {
    SimCluster c;
    RequireStarted(c, {"drop-after=20000"});
    for (const char* protocol : kProtocols) {
      CAPTURE(std::string(protocol));
      auto start = std::chrono::steady_clock::now();
      auto pty = StartExec(c, protocol,
                           {"sh", "-c",
                            "echo started; sleep 0.3; yes dropped | head -c 1000000; "
                            "sleep 60"});
      REQUIRE(pty);
      bool timed_out = false;
      int code = pty->Wait(20000, &timed_out);
      INFO("pty transcript tail: "
           << pty->output().substr(pty->output().size() > 2000 ? pty->output().size() - 2000 : 0));
      CHECK_FALSE(timed_out);
      CHECK(code == 69);
      CHECK(pty->output().find("error: connection lost") != std::string::npos);
      // Far below the 60 s dead-peer deadline: a closed connection is noticed at once.
      CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
      auto after = pty->Modes();
      REQUIRE(after);
      CHECK(SameModes(*after, pty->initial_modes()));
    }
  }

  TEST_CASE("exec -t without a terminal on stdin: kubectl's warning, no tty, still runs") {
    SimCluster c;
    RequireStarted(c);
    ProcessResult r = c.Kproxy({"exec", "-it", kPod, "--", "sh", "-c", "cat; exit 2"}, "piped\n");
    INFO(r.Describe());
    CHECK(r.exit_code == 2);
    CHECK(r.out == "piped\n");
    CHECK(r.err.find("Unable to use a TTY - input is not a terminal or the right kind of file") !=
          std::string::npos);
  }
}

}  // namespace kproxy::test
