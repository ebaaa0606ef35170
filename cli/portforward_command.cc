// `kproxy port-forward`: kubectl's arguments, flags and output lines over
// core/session/portforward_session (tunnel, SPDY fallback, reconnects).
#include <CLI/CLI.hpp>
#include <cstdlib>
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
#include "core/portforward/forwarder_ports.h"
#include "core/portforward/listener.h"
#include "core/rest/api_client.h"
#include "core/session/portforward_session.h"
#include "core/transport/http_upgrade.h"

namespace kproxy::cli {
namespace {

struct PortForwardOptions {
  std::vector<std::string> args;  // TYPE/NAME [LOCAL:]REMOTE...
  std::vector<std::string> addresses{"localhost"};
  std::string pod_running_timeout = "1m";
  std::string protocol = "auto";
};

int Usage(CommandIO& io, const std::string& message) {
  io.err << "error: " << message << "\nSee 'kproxy port-forward -h' for help and examples\n";
  return exit_status::kUsage;
}

int RunPortForward(const PortForwardOptions& o, const GlobalOptions& g, CommandIO& io) {
  if (o.args.size() < 2)
    return Usage(io, "TYPE/NAME and list of ports are required for port-forward");
  if (o.protocol != "auto" && o.protocol != "websocket" && o.protocol != "spdy")
    return Usage(io, "--protocol must be auto, websocket or spdy");
  std::vector<portforward::PortSpec> specs;
  for (size_t i = 1; i < o.args.size(); ++i) {
    auto spec = portforward::ParsePortSpec(o.args[i]);
    if (!spec.ok()) return ReportError(io, spec.error());
    specs.push_back(*spec);
  }
  auto addresses = portforward::ParseAddresses(o.addresses);
  if (!addresses.ok()) return ReportError(io, addresses.error());
  auto timeout = ParseGoDuration(o.pod_running_timeout);
  if (!timeout.ok()) return ReportError(io, timeout.error());

  // One event loop for the lookups and the session: the lookups then share its connection
  // code instead of loading libcurl (core/transport/ARCHITECTURE.md).
  auto loop = EventLoop::Create();
  if (!loop.ok()) return ReportError(io, loop.error());
  auto access = ClusterAccess::Open(g, io, false, loop->get());
  if (!access.ok()) return ReportError(io, access.error());
  ClusterAccess& a = **access;
  const std::string ns = a.config().namespace_;
  auto target = ResolvePodTarget(a, o.args[0], ns, *timeout);
  if (!target.ok()) return ReportError(io, target.error());
  auto ports = portforward::ResolveForwardedPorts(specs, target->pod, target->service);
  if (!ports.ok()) return ReportError(io, ports.error());
  std::string phase = PodPhase(target->pod);
  if (phase != "Running") {
    io.err << "error: unable to forward port because pod is not running. Current status=" << phase
           << "\n";
    return exit_status::kError;
  }

  PortForwardSessionOptions s;
  auto dial = DialTargetFromRestConfig(a.config(), [](const char* n) { return ::getenv(n); });
  if (!dial.ok()) return ReportError(io, dial.error());
  s.target.dial = std::move(*dial);
  if (auto cert = a.PluginClientCertificate()) {
    s.target.dial.tls.client_cert_pem = cert->first;
    s.target.dial.tls.client_key_pem = cert->second;
  }
  s.target.path_and_query =
      "/api/v1/namespaces/" + PathEscape(ns) + "/pods/" + PathEscape(target->name) + "/portforward";
  s.target.user_agent = KproxyUserAgent();
  // SPDY sends its upgrade on the pod lookup's kept-alive connection when it matches.
  s.target.take_idle = [&a](const DialTarget& d, TlsConnection::Callbacks cb) {
    return a.TakeIdleConnection(d, std::move(cb));
  };
  auto headers = a.UpgradeHeaders();
  if (!headers.ok()) return ReportError(io, headers.error());
  s.target.headers = std::move(*headers);
  s.ports = std::move(*ports);
  s.addresses = std::move(*addresses);
  s.context = a.DiagnoseContext("pods/portforward");

  ProtocolMemory memory(ProtocolMemory::DefaultPath(), 6 * 3600);
  const char* env = ::getenv("KUBECTL_PORT_FORWARD_WEBSOCKETS");
  ProtocolPlan plan = PlanFromMemory(memory, a.config().server, "portforward", o.protocol, env,
                                     static_cast<int64_t>(::time(nullptr)));
  s.order = plan.order;
  s.plan_reason = plan.reason;
  // Forcing SPDY (flag or kubectl's switch) rules out the legacy WebSocket form too.
  s.legacy_websocket_fallback = o.protocol != "spdy" && !(env && std::string(env) == "false");
  s.memory = PlanIsForced(plan) ? nullptr : &memory;
  s.memory_server = a.config().server;
  s.now_seconds = [] { return static_cast<int64_t>(::time(nullptr)); };
  s.reauthenticate = [&a] { return a.Reauthenticate(); };

  Status st = RunPortForwardSession(**loop, std::move(s), io.out, io.err);
  io.out.flush();
  if (!st.ok()) return ReportError(io, st.error());
  return exit_status::kOk;
}

RunFn Setup(CLI::App& app) {
  auto o = std::make_shared<PortForwardOptions>();
  app.add_option("--address", o->addresses,
                 "Addresses to listen on (comma separated). Only accepts IP addresses or "
                 "localhost as a value. When localhost is supplied, kproxy will try to bind on "
                 "both 127.0.0.1 and ::1 and will fail if neither of these addresses are "
                 "available to bind.")
      ->delimiter(',')
      ->allow_extra_args(false);  // one value per --address, so positionals are not swallowed
  app.add_option("--pod-running-timeout", o->pod_running_timeout,
                 "The length of time (like 5s, 2m, or 3h, higher than zero) to wait until at "
                 "least one pod is running");
  app.add_option("--protocol", o->protocol,
                 "Streaming protocol: auto (WebSocket tunnel, then SPDY), websocket or spdy");
  app.add_option("args", o->args, "TYPE/NAME [LOCAL_PORT:]REMOTE_PORT...");
  app.allow_extras(false);
  app.positionals_at_end(false);
  return [o](const GlobalOptions& g, CommandIO& io) { return RunPortForward(*o, g, io); };
}

}  // namespace

CommandSpec PortForwardCommand() {
  return CommandSpec{
      "port-forward", "Forward one or more local ports to a pod",
      "  # Listen on ports 5000 and 6000 locally, forwarding to 5000 and 6000 in the pod\n"
      "  kproxy port-forward pod/mypod 5000 6000\n\n"
      "  # Listen on 8888 locally, forwarding to 5000 in a pod of deployment mydeployment\n"
      "  kproxy port-forward deployment/mydeployment 8888:5000\n\n"
      "  # Listen on port 8443 locally, forwarding to the targetPort of the service's port\n"
      "  # named \"https\" in a pod selected by the service\n"
      "  kproxy port-forward service/myservice 8443:https\n\n"
      "  # Listen on a random port locally, forwarding to 5000 in the pod\n"
      "  kproxy port-forward pod/mypod :5000\n\n"
      "  # Listen on all addresses, forwarding 8888 to 5000 in the pod\n"
      "  kproxy port-forward --address 0.0.0.0 pod/mypod 8888:5000\n",
      [](CLI::App& app) { return Setup(app); }};
}

}  // namespace kproxy::cli
