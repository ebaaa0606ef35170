// `kproxy exec` and `kproxy attach`: kubectl's flags and messages over core/session.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <ctime>
#include <ostream>

#include "cli/cluster_access.h"
#include "cli/commands.h"
#include "cli/error_output.h"
#include "cli/pod_target.h"
#include "core/base/build_info.h"
#include "core/base/exit_code.h"
#include "core/base/log.h"
#include "core/negotiate/protocol_memory.h"
#include "core/rest/api_client.h"
#include "core/session/exec_session.h"
#include "core/terminal/tty.h"
#include "core/transport/http_upgrade.h"

namespace kproxy::cli {
namespace {

struct ExecOptions {
  bool attach = false;
  std::vector<std::string> args;  // POD [COMMAND...] (before/after --)
  bool has_dashdash = false;
  std::string container;
  bool stdin = false;
  bool tty = false;
  bool quiet = false;
  std::string pod_running_timeout = "1m";
  std::string protocol = "auto";
};

int RunExec(ExecOptions o, const GlobalOptions& g, CommandIO& io) {
  o.has_dashdash = g.dash_dash;
  if (!o.attach && o.has_dashdash && o.args.size() > 1) {
    io.err << "error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- "
              "[COMMAND] instead\nSee 'kproxy exec -h' for help and examples\n";
    return exit_status::kUsage;
  }
  const char* verb = o.attach ? "attach" : "exec";
  if (o.args.empty()) {
    io.err << (o.attach ? "error: at least 1 argument is required for attach\n"
                        : "error: pod, type/name or --filename must be specified\n");
    return exit_status::kUsage;
  }
  std::vector<std::string> command =
      o.has_dashdash ? g.after_dash : std::vector<std::string>(o.args.begin() + 1, o.args.end());
  if (!o.attach) {
    if (!o.has_dashdash && !command.empty()) {
      io.err << "error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- "
                "[COMMAND] instead\nSee 'kproxy exec -h' for help and examples\n";
      return exit_status::kUsage;
    }
    if (command.empty()) {
      io.err << "error: you must specify at least one command for the container\n";
      return exit_status::kUsage;
    }
  } else if (o.args.size() > 1) {
    io.err << "error: expected a single argument: POD or TYPE/NAME, saw " << o.args.size() << "\n";
    return exit_status::kUsage;
  }
  if (o.protocol != "auto" && o.protocol != "websocket" && o.protocol != "spdy") {
    io.err << "error: --protocol must be auto, websocket or spdy\n";
    return exit_status::kUsage;
  }
  auto timeout = ParseGoDuration(o.pod_running_timeout);
  if (!timeout.ok()) return ReportError(io, timeout.error());

  // kubectl: -t needs -i, and a terminal on stdin.
  bool tty = o.tty && o.stdin;
  if (tty && !IsTerminal(STDIN_FILENO)) {
    tty = false;
    if (!o.quiet) io.err << kNotATerminalWarning << "\n";
  }

  // One event loop for the lookups and the session: the lookups then share its connection
  // code instead of loading libcurl (core/transport/ARCHITECTURE.md).
  auto loop = EventLoop::Create();
  if (!loop.ok()) return ReportError(io, loop.error());
  auto access = ClusterAccess::Open(g, io, o.stdin, loop->get());
  if (!access.ok()) return ReportError(io, access.error());
  ClusterAccess& a = **access;
  const std::string ns = a.config().namespace_;

  auto target = ResolvePodTarget(a, o.args[0], ns, *timeout);
  if (!target.ok()) return ReportError(io, target.error());
  Status completed = CheckPodNotCompleted(target->pod, verb);
  if (!completed.ok()) return ReportError(io, completed.error());
  if (o.attach && PodPhase(target->pod) != "Running") {
    io.err << "error: pod " << target->name << " is not running (phase " << PodPhase(target->pod)
           << ")\n";
    return exit_status::kError;
  }
  auto container = ChooseContainer(target->pod, o.container, o.quiet);
  if (!container.ok()) return ReportError(io, container.error());
  if (!container->notice.empty()) io.err << container->notice << "\n";

  http::ExecQuery q;
  if (!o.attach) q.command = command;
  q.container = container->name;
  q.use_stdin = o.stdin;
  q.use_stdout = true;
  q.use_stderr = !tty;
  q.tty = tty;
  std::string path = "/api/v1/namespaces/" + PathEscape(ns) + "/pods/" + PathEscape(target->name) +
                     "/" + verb + "?" + http::BuildExecQuery(q);

  ExecSessionOptions s;
  auto dial = DialTargetFromRestConfig(a.config(), [](const char* n) { return ::getenv(n); });
  if (!dial.ok()) return ReportError(io, dial.error());
  s.target.dial = std::move(*dial);
  if (auto cert = a.PluginClientCertificate()) {
    s.target.dial.tls.client_cert_pem = cert->first;
    s.target.dial.tls.client_key_pem = cert->second;
  }
  s.target.path_and_query = std::move(path);
  s.target.user_agent = KproxyUserAgent();
  // SPDY sends its upgrade on the pod lookup's kept-alive connection when it matches.
  s.target.take_idle = [&a](const DialTarget& d, TlsConnection::Callbacks cb) {
    return a.TakeIdleConnection(d, std::move(cb));
  };
  auto headers = a.UpgradeHeaders();
  if (!headers.ok()) return ReportError(io, headers.error());
  s.target.headers = std::move(*headers);
  s.streams.stdin = o.stdin;
  s.streams.stdout = true;
  s.streams.stderr = !tty;
  s.streams.tty = tty;
  s.attach = o.attach;
  s.raw_terminal = tty;
  s.context = a.DiagnoseContext(std::string("pods/") + verb);

  ProtocolMemory memory(ProtocolMemory::DefaultPath(), 6 * 3600);
  const char* env = ::getenv("KUBECTL_REMOTE_COMMAND_WEBSOCKETS");
  ProtocolPlan plan = PlanFromMemory(memory, a.config().server, "exec", o.protocol, env,
                                     static_cast<int64_t>(::time(nullptr)));
  s.order = plan.order;
  s.plan_reason = plan.reason;
  s.memory = PlanIsForced(plan) ? nullptr : &memory;
  s.memory_server = a.config().server;
  s.now_seconds = [] { return static_cast<int64_t>(::time(nullptr)); };
  s.reauthenticate = [&a] { return a.Reauthenticate(); };

  if (o.attach && !o.quiet) io.err << "If you don't see a command prompt, try pressing enter.\n";
  io.err.flush();
  io.out.flush();

  auto outcome = RunExecSession(**loop, std::move(s), io.err);
  if (!outcome.ok()) return ReportError(io, outcome.error());
  Log(1, "session ended over " + outcome->protocol + " with exit code " +
             std::to_string(outcome->exit_code));
  // The session restored the terminal and recorded the protocol; tearing down the loop, lws
  // and the idle lookup connection only delays the exit.
  QuickExit(io, outcome->exit_code);
  return outcome->exit_code;
}

RunFn Setup(CLI::App& app, bool attach) {
  auto o = std::make_shared<ExecOptions>();
  o->attach = attach;
  app.add_option("-c,--container", o->container,
                 "Container name. If omitted, use the kubectl.kubernetes.io/default-container "
                 "annotation or the first container in the pod");
  app.add_flag("-i,--stdin", o->stdin, "Pass stdin to the container");
  app.add_flag("-t,--tty", o->tty, "Stdin is a TTY");
  app.add_flag("-q,--quiet", o->quiet, "Only print output from the remote session");
  app.add_option("--pod-running-timeout", o->pod_running_timeout,
                 "How long to wait until at least one pod is running (e.g. 5s, 2m)");
  app.add_option("--protocol", o->protocol,
                 "Streaming protocol: auto (WebSocket, then SPDY), websocket or spdy");
  app.add_option("args", o->args, attach ? "POD or TYPE/NAME" : "POD or TYPE/NAME -- COMMAND");
  app.allow_extras(false);
  app.positionals_at_end(false);
  return [o](const GlobalOptions& g, CommandIO& io) { return RunExec(*o, g, io); };
}

}  // namespace

CommandSpec ExecCommand() {
  return CommandSpec{"exec",
                     "Execute a command in a container",
                     "  # Run 'date' in pod mypod, using the first container by default\n"
                     "  kproxy exec mypod -- date\n\n"
                     "  # Open an interactive shell in container main of pod mypod\n"
                     "  kproxy exec -it mypod -c main -- sh\n\n"
                     "  # Run a migration in the most active pod of deployment api, from CI\n"
                     "  kproxy exec deploy/api -- ./migrate.sh\n\n"
                     "  # Force SPDY (as KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false does)\n"
                     "  kproxy exec --protocol=spdy mypod -- ls /\n",
                     [](CLI::App& app) { return Setup(app, false); },
                     /*hidden=*/false,
                     /*takes_command=*/true};
}

CommandSpec AttachCommand() {
  return CommandSpec{"attach", "Attach to a running container",
                     "  # Attach to the main process of pod mypod\n"
                     "  kproxy attach mypod\n\n"
                     "  # Interactive: send stdin, with a terminal\n"
                     "  kproxy attach -it mypod -c main\n",
                     [](CLI::App& app) { return Setup(app, true); }};
}

}  // namespace kproxy::cli
