// kproxy exec and attach against the simulator in every fault mode it offers, tty and non-tty:
// the protocol chosen (the `-v 1` line "connected over websocket|spdy with …"), whether the
// fallback happened as protocols.md §4 says, the diagnostics of §5, and README's exit codes.
#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "tests/support/e2e_start.h"

namespace kproxy::test {
namespace {

constexpr const char* kPod = "web-7d9f5c6b8-abcde";  // container "web", runs sh, stdin
constexpr const char* kTtyPod = "db-0";              // tty: true, stdin: true (attach -it)

enum class Mode { kExec, kExecStdin, kExecTty, kAttachStdin, kAttachTty };

const char* ModeName(Mode m) {
  switch (m) {
    case Mode::kExec:
      return "exec";
    case Mode::kExecStdin:
      return "exec -i (piped)";
    case Mode::kExecTty:
      return "exec -it (pty)";
    case Mode::kAttachStdin:
      return "attach -i (piped)";
    case Mode::kAttachTty:
      return "attach -it (pty)";
  }
  return "?";
}

constexpr Mode kAllModes[] = {Mode::kExec, Mode::kExecStdin, Mode::kExecTty, Mode::kAttachStdin,
                              Mode::kAttachTty};

struct Run {
  int exit_code = -1;
  bool timed_out = false;
  std::string out;  // stdout, or the whole pty transcript
  std::string err;  // stderr ("" under a pty: it is in `out`)
  std::string all() const { return out + err; }
};

// One session in `mode`; the remote side prints a marker and ends with exit code 3 (exec) or
// 4 (attach: the container's shell exits).
Run RunMode(const SimCluster& c, Mode mode, const std::vector<std::string>& extra_args = {}) {
  // A fresh protocol memory for every run: each run shows the first-attempt behaviour.
  std::filesystem::remove_all(c.home.path() / "cache");
  std::vector<std::string> args = {"-v", "1"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  Run r;
  auto pty_run = [&](std::vector<std::string> tail, const std::string& typed,
                     const std::string& wait_for) {
    std::vector<std::string> argv = args;
    argv.insert(argv.end(), tail.begin(), tail.end());
    auto pty = c.Pty(argv);
    REQUIRE(pty);
    if (!typed.empty()) {
      // Type once the session runs (the shell's output proves it), as a user would.
      pty->WaitFor(wait_for, 15000);
      pty->Write(typed);
    }
    r.exit_code = pty->Wait(20000, &r.timed_out);
    r.out = pty->output();
  };
  auto pipe_run = [&](std::vector<std::string> tail, const std::string& input) {
    args.insert(args.end(), tail.begin(), tail.end());
    ProcessResult p = c.Kproxy(args, input, 20000);
    r.exit_code = p.exit_code;
    r.timed_out = p.timed_out;
    r.out = p.out;
    r.err = p.err;
  };
  switch (mode) {
    case Mode::kExec:
      pipe_run({"exec", kPod, "--", "sh", "-c", "echo out-marker; echo err-marker >&2; exit 3"},
               "");
      break;
    case Mode::kExecStdin:
      pipe_run({"exec", "-i", kPod, "--", "sh", "-c",
                "read l; echo \"got:$l\"; cat >/dev/null; echo err-marker >&2; exit 3"},
               "in-marker\nmore\n");
      break;
    case Mode::kExecTty:
      pty_run({"exec", "-it", kPod, "--", "sh", "-c", "echo out-marker; read l; exit 3"}, "x\n",
              "out-marker");
      break;
    case Mode::kAttachStdin:
      pipe_run({"attach", "-i", kPod}, "echo attached-$((40+2)); exit 4\n");
      break;
    case Mode::kAttachTty:
      // Typed after raw mode is on (it precedes the dial): a cooked-mode line could be flushed.
      pty_run({"attach", "-it", kTtyPod}, "echo attached-$((40+2)); exit 4\n", "connected over");
      break;
  }
  return r;
}

bool IsAttach(Mode m) { return m == Mode::kAttachStdin || m == Mode::kAttachTty; }
bool PipedStdin(Mode m) { return m == Mode::kExecStdin || m == Mode::kAttachStdin; }

// The session ran to its end over `transport` with `version`: markers, exit code.
void ExpectSession(const Run& r, Mode mode, const std::string& transport,
                   const std::string& version) {
  INFO(ModeName(mode) << ": exit=" << r.exit_code << (r.timed_out ? " (timed out)" : "")
                      << "\nstdout/pty:\n"
                      << r.out.substr(0, 2000) << "\nstderr:\n"
                      << r.err.substr(0, 2000));
  CHECK_FALSE(r.timed_out);
  CHECK(r.all().find("connected over " + transport + " with " + version) != std::string::npos);
  CHECK(r.exit_code == (IsAttach(mode) ? 4 : 3));
  switch (mode) {
    case Mode::kExec:
      CHECK(r.out == "out-marker\n");
      CHECK(r.err.find("err-marker\n") != std::string::npos);
      CHECK(r.err.find("command terminated with exit code 3") != std::string::npos);
      break;
    case Mode::kExecStdin:
      CHECK(r.out == "got:in-marker\n");
      CHECK(r.err.find("err-marker\n") != std::string::npos);
      break;
    case Mode::kExecTty:
      CHECK(r.out.find("out-marker") != std::string::npos);
      break;
    case Mode::kAttachStdin:
    case Mode::kAttachTty:
      CHECK(r.all().find("attached-42") != std::string::npos);
      CHECK(r.all().find("If you don't see a command prompt, try pressing enter.") !=
            std::string::npos);
      break;
  }
}

// The session was refused: no "connected" line, the diagnostic lines, the exit code.
void ExpectRefused(const Run& r, Mode mode, int exit_code, bool tried_spdy,
                   const std::vector<std::string>& needles) {
  INFO(ModeName(mode) << ": exit=" << r.exit_code << (r.timed_out ? " (timed out)" : "")
                      << "\nstdout/pty:\n"
                      << r.out.substr(0, 2000) << "\nstderr:\n"
                      << r.err.substr(0, 3000));
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == exit_code);
  CHECK(r.all().find("connected over") == std::string::npos);
  CHECK((r.all().find("trying spdy") != std::string::npos) == tried_spdy);
  for (const std::string& n : needles) {
    CAPTURE(n);
    CHECK(r.all().find(n) != std::string::npos);
  }
}

// Runs every mode against `c`; `check` judges each run.
void ForEachMode(const SimCluster& c, const std::function<void(const Run&, Mode)>& check) {
  for (Mode m : kAllModes) {
    CAPTURE(std::string(ModeName(m)));
    check(RunMode(c, m), m);
  }
}

}  // namespace

TEST_SUITE("e2e.exec") {
  TEST_CASE("exec/attach without faults: WebSocket v5, no fallback, remote exit codes") {
    SimCluster c;
    RequireStarted(c);
    ForEachMode(c, [&](const Run& r, Mode m) {
      ExpectSession(r, m, "websocket", "v5.channel.k8s.io");
      CHECK(r.all().find("trying spdy") == std::string::npos);
    });
  }

  TEST_CASE("fault ws-forbidden: empty 403 on the WebSocket upgrade, silent fallback to SPDY") {
    SimCluster c;
    RequireStarted(c, {"ws-forbidden"});
    ForEachMode(c, [&](const Run& r, Mode m) {
      ExpectSession(r, m, "spdy", "v4.channel.k8s.io");
      CHECK(r.all().find("websocket attempt failed (upgrade-refused)") != std::string::npos);
      // Silent: no error line reaches the user when the fallback works.
      CHECK(r.all().find("error:") == std::string::npos);
    });
    // Protocol memory: the next session starts with SPDY without trying WebSocket.
    std::filesystem::remove_all(c.home.path() / "cache");
    ProcessResult first = c.Kproxy({"-v", "1", "exec", kPod, "--", "true"});
    ProcessResult second = c.Kproxy({"-v", "1", "exec", kPod, "--", "true"});
    INFO(first.Describe() << "\n" << second.Describe());
    CHECK(first.exit_code == 0);
    CHECK(second.exit_code == 0);
    CHECK(second.err.find("SPDY worked last time") != std::string::npos);
    CHECK(second.err.find("trying websocket") == std::string::npos);
  }

  TEST_CASE("fault no-v5: a pre-1.30 server; WebSocket v4, SPDY when stdin must half-close") {
    SimCluster c;
    RequireStarted(c, {"no-v5"});
    ForEachMode(c, [&](const Run& r, Mode m) {
      if (PipedStdin(m)) {
        // v4 has no stdin half-close: a piped stdin would leave `cat` waiting forever.
        ExpectSession(r, m, "spdy", "v4.channel.k8s.io");
        CHECK(r.all().find("connected over websocket with v4.channel.k8s.io") != std::string::npos);
        CHECK(r.all().find("switching to SPDY") != std::string::npos);
      } else {
        ExpectSession(r, m, "websocket", "v4.channel.k8s.io");
        CHECK(r.all().find("trying spdy") == std::string::npos);
      }
    });
  }

  TEST_CASE("fault strip-upgrade: 400 Upgrade request required on both, named, exit 82") {
    SimCluster c;
    RequireStarted(c, {"strip-upgrade"});
    ForEachMode(c, [&](const Run& r, Mode m) {
      ExpectRefused(r, m, 82, true,
                    {"Error from server (BadRequest): Upgrade request required",
                     "removed the Upgrade header"});
    });
  }

  TEST_CASE("fault rbac-ws-get: RBAC denies get only; SPDY (create) works, with the hint") {
    SimCluster c;
    RequireStarted(c, {"rbac-ws-get"});
    ForEachMode(c, [&](const Run& r, Mode m) {
      ExpectSession(r, m, "spdy", "v4.channel.k8s.io");
      std::string resource = IsAttach(m) ? "pods/attach" : "pods/exec";
      CHECK(r.all().find("note: RBAC allows \"create\" but not \"get\" on " + resource) !=
            std::string::npos);
    });
  }

  TEST_CASE("fault rbac-both: RBAC denies both verbs; the user, verb and rule named, exit 77") {
    SimCluster c;
    RequireStarted(c, {"rbac-both"});
    ForEachMode(c, [&](const Run& r, Mode m) {
      std::string resource = IsAttach(m) ? "pods/attach" : "pods/exec";
      std::string pod = m == Mode::kAttachTty ? kTtyPod : kPod;
      ExpectRefused(
          r, m, 77, true,
          {"Error from server (Forbidden): pods \"" + pod +
               "\" is forbidden: User \"alice\" cannot get resource \"" + resource + "\"",
           "Kubernetes RBAC: user \"alice\"", "cannot create resource \"" + resource + "\""});
    });
  }

  TEST_CASE("fault h2-only: an HTTP/2-only front end; no SPDY retry, exit 82") {
    SimCluster c;
    RequireStarted(c, {"h2-only"});
    ForEachMode(c, [&](const Run& r, Mode m) {
      // The front end refuses HTTP/1.1 already for the pod lookup, before any upgrade: the same
      // exit code and explanation as an upgrade refused for HTTP/2.
      ExpectRefused(r, m, 82, false,
                    {"Unable to connect to the server", "speaks only HTTP/2",
                     "need an HTTP/1.1 upgrade, which HTTP/2 does not have"});
      CHECK(r.all().find("trying websocket") == std::string::npos);
    });
  }

  TEST_CASE("fault expired: every token refused (401); kubectl's message, exit 80") {
    SimCluster c;
    RequireStarted(c, {"expired"});
    ForEachMode(c, [&](const Run& r, Mode m) {
      ExpectRefused(r, m, 80, false, {"error: You must be logged in to the server (Unauthorized)"});
    });
  }

  TEST_CASE("fault delay: slow response heads still end in a WebSocket session") {
    SimCluster c;
    RequireStarted(c, {"delay=300"});
    ForEachMode(
        c, [&](const Run& r, Mode m) { ExpectSession(r, m, "websocket", "v5.channel.k8s.io"); });
  }

  TEST_CASE("fault slow-reader: a server reading in small pauses; sessions complete") {
    SimCluster c;
    RequireStarted(c, {"slow-reader"});
    ForEachMode(
        c, [&](const Run& r, Mode m) { ExpectSession(r, m, "websocket", "v5.channel.k8s.io"); });
  }

  TEST_CASE("fault drop-after: the connection dropped mid-stream; clear error, exit 69") {
    // 20000 bytes covers the pod lookup and the upgrade; the session's output does not fit.
    SimCluster c;
    RequireStarted(c, {"drop-after=20000"});
    for (const char* protocol : {"websocket", "spdy"}) {
      for (bool stdin : {false, true}) {
        CAPTURE(std::string(protocol));
        CAPTURE(stdin);
        std::vector<std::string> args = {"-v", "1", "exec", std::string("--protocol=") + protocol};
        if (stdin) args.push_back("-i");
        args.insert(args.end(), {kPod, "--", "sh", "-c", "head -c 10000000 /dev/zero; sleep 30"});
        ProcessResult r = c.Kproxy(args, stdin ? "some input\n" : "", 20000);
        INFO(r.Describe());
        CHECK_FALSE(r.timed_out);
        CHECK(r.exit_code == 69);
        CHECK(r.err.find(std::string("connected over ") + protocol) != std::string::npos);
        CHECK(r.err.find("error: connection lost") != std::string::npos);
        CHECK(r.out_bytes < 10000000u);
        CHECK(r.wall_seconds < 10);
      }
    }
  }

  TEST_CASE("--protocol and KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false choose the transport") {
    SimCluster c;
    RequireStarted(c);
    ProcessResult spdy = c.Kproxy({"-v", "1", "exec", "--protocol=spdy", kPod, "--", "true"});
    INFO(spdy.Describe());
    CHECK(spdy.exit_code == 0);
    CHECK(spdy.err.find("connected over spdy with v4.channel.k8s.io") != std::string::npos);
    CHECK(spdy.err.find("trying websocket") == std::string::npos);
    std::filesystem::remove_all(c.home.path() / "cache");
    ProcessResult env = c.Kproxy({"-v", "1", "exec", kPod, "--", "true"}, "", 20000,
                                 {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false"});
    INFO(env.Describe());
    CHECK(env.exit_code == 0);
    CHECK(env.err.find("connected over spdy") != std::string::npos);
    CHECK(env.err.find("trying websocket") == std::string::npos);
  }
}

}  // namespace kproxy::test
