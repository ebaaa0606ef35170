// `kproxy get pods [NAME] [-n NS | -A] [-l SELECTOR] [-o wide|json|yaml|name]`: flags and
// kubeconfig → GetPodsRequest + RestConfig; fetching and printing live in core/rest/get_pods.
#include <CLI/CLI.hpp>
#include <chrono>
#include <ostream>

#include "cli/cluster_access.h"
#include "cli/commands.h"
#include "cli/error_output.h"
#include "core/base/exit_code.h"
#include "core/base/log.h"
#include "core/rest/get_pods.h"
#include "core/rest/http_client.h"

namespace kproxy::cli {
namespace {

struct GetOptions {
  std::vector<std::string> args;  // TYPE [NAME] or TYPE/NAME
  bool all_namespaces = false;
  std::string selector;
  std::string output;
};

bool IsPods(const std::string& type) { return type == "pods" || type == "pod" || type == "po"; }

Result<GetPodsRequest> ParseArgs(const GetOptions& o) {
  GetPodsRequest req;
  if (o.args.empty()) {
    return MakeError(ErrorCode::kUsage,
                     "error: you must specify the type of resource to get. kproxy supports: pods");
  }
  std::string type = o.args[0];
  if (size_t slash = type.find('/'); slash != std::string::npos) {
    if (o.args.size() > 1) {
      return MakeError(ErrorCode::kUsage,
                       "error: there is no need to specify a resource type as a separate "
                       "argument when passing arguments in resource/name form");
    }
    req.name = type.substr(slash + 1);
    type = type.substr(0, slash);
    if (req.name.empty()) return MakeError(ErrorCode::kUsage, "error: empty name in " + o.args[0]);
  } else if (o.args.size() == 2) {
    req.name = o.args[1];
  } else if (o.args.size() > 2) {
    return MakeError(ErrorCode::kUsage, "error: kproxy get pods takes at most one NAME");
  }
  if (!IsPods(type)) {
    return MakeError(ErrorCode::kUsage, "error: the server doesn't have a resource type \"" + type +
                                            "\" that kproxy can get (supported: pods, pod, po)");
  }
  req.all_namespaces = o.all_namespaces;
  req.label_selector = o.selector;
  req.output = o.output;
  return req;
}

}  // namespace

int RunGetPods(const RestConfig& config, GetPodsRequest request, HttpClient& http, CommandIO& io) {
  request.namespace_ = config.namespace_.empty() ? "default" : config.namespace_;
  ApiClient api(http);
  Status s = GetPods(api, request, io.out, io.err, std::chrono::system_clock::now());
  if (!s.ok()) {
    return ReportError(io, s.error());
  }
  return exit_status::kOk;
}

CommandSpec GetCommand() {
  return CommandSpec{
      "get", "Display one or many pods",
      "  # List the pods in the current namespace\n  kproxy get pods\n\n"
      "  # In every namespace, with node and IP\n  kproxy get pods -A -o wide\n\n"
      "  # One pod as YAML\n  kproxy get pod web-7d9f -o yaml\n\n"
      "  # Pods with a label\n  kproxy get po -l app=web -o name\n",
      [](CLI::App& app) -> RunFn {
        auto o = std::make_shared<GetOptions>();
        app.add_option("args", o->args, "TYPE [NAME] or TYPE/NAME (TYPE: pods, pod, po)");
        app.add_flag("-A,--all-namespaces", o->all_namespaces,
                     "List the pods across all namespaces");
        app.add_option("-l,--selector", o->selector,
                       "Label selector (e.g. -l key1=value1,key2=value2)");
        app.add_option("-o,--output", o->output, "Output format: wide, json, yaml or name");
        return [o](const GlobalOptions& globals, CommandIO& io) {
          auto request = ParseArgs(*o);
          if (!request.ok()) {
            ReportError(io, request.error());
            io.err << "See 'kproxy get --help' for usage.\n";
            return exit_status::kUsage;
          }
          if (Status v = ValidateGetPods(*request); !v.ok()) {
            return ReportError(io, v.error());
          }
          // kubeconfig + flags + credentials (plugins, access-proxy session, 401 healing).
          auto access = ClusterAccess::Open(globals, io, /*stdin_in_use=*/false);
          if (!access.ok()) {
            return ReportError(io, access.error());
          }
          return RunGetPods((*access)->config(), *request, (*access)->http(), io);
        };
      }};
}

}  // namespace kproxy::cli
