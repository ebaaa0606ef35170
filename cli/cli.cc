#include <CLI/CLI.hpp>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/command.h"
#include "core/base/exit_code.h"
#include "core/base/log.h"

namespace kproxy::cli {
namespace {

// kubectl's global connection flags, shared by every command.
void AddGlobalFlags(CLI::App& app, GlobalOptions& g) {
  auto& o = g.overrides;
  auto opt = [&](const char* name, std::optional<std::string>& field, const char* help) {
    app.add_option_function<std::string>(
           name, [&field](const std::string& v) { field = v; }, help)
        ->group("Global flags");
  };
  opt("--kubeconfig", o.kubeconfig, "Path to the kubeconfig file to use");
  opt("--context", o.context, "The name of the kubeconfig context to use");
  opt("--cluster", o.cluster, "The name of the kubeconfig cluster to use");
  opt("--user", o.user, "The name of the kubeconfig user to use");
  opt("-n,--namespace", o.namespace_, "The namespace scope for this request");
  opt("-s,--server", o.server, "The address and port of the Kubernetes API server");
  opt("--certificate-authority", o.certificate_authority, "Path to a cert file for the CA");
  app.add_flag_function(
         "--insecure-skip-tls-verify", [&o](std::int64_t n) { o.insecure_skip_tls_verify = n > 0; },
         "Do not check the server's certificate (insecure)")
      ->group("Global flags");
  opt("--tls-server-name", o.tls_server_name, "Server name to use for certificate validation");
  opt("--client-certificate", o.client_certificate, "Path to a client certificate file");
  opt("--client-key", o.client_key, "Path to a client key file");
  opt("--token", o.token, "Bearer token for authentication to the API server");
  opt("--username", o.username, "Username for basic authentication");
  opt("--password", o.password, "Password for basic authentication");
  opt("--as", o.as, "Username to impersonate for the operation");
  app.add_option("--as-group", o.as_groups, "Group to impersonate (repeatable)")
      ->group("Global flags");
  opt("--as-uid", o.as_uid, "UID to impersonate for the operation");
  opt("--request-timeout", o.request_timeout,
      "How long to wait for a single request (0 = no timeout), e.g. 5s, 1m");
  app.add_option("-v,--v", g.verbosity, "Log level for diagnostic output (secrets redacted)")
      ->group("Global flags");
}

}  // namespace

std::unique_ptr<CLI::App> BuildApp(GlobalOptions& globals, RunFn& chosen) {
  auto app = std::make_unique<CLI::App>(
      "kproxy: reach Kubernetes workloads through a zero-trust access proxy", "kproxy");
  app->require_subcommand(1);
  app->fallthrough();
  AddGlobalFlags(*app, globals);

  std::map<std::string, CLI::App*> nodes;  // command path -> CLI11 node
  for (const auto& spec : CommandTable()) {
    CLI::App* parent = app.get();
    std::istringstream words(spec.path);
    std::string word, path;
    while (words >> word) {
      path += path.empty() ? word : " " + word;
      auto it = nodes.find(path);
      if (it == nodes.end()) {
        CLI::App* sub = parent->add_subcommand(word, path == spec.path ? spec.summary : "");
        sub->fallthrough();
        it = nodes.emplace(path, sub).first;
      }
      parent = it->second;
    }
    if (!spec.example.empty()) parent->footer("Examples:\n" + spec.example);
    if (spec.hidden) parent->group("");
    RunFn run = spec.setup(*parent);
    bool takes_command = spec.takes_command;
    parent->callback([&chosen, &globals, run, takes_command] {
      chosen = run;
      globals.takes_command = takes_command;
    });
  }
  // Group nodes (like "config") need one of their subcommands.
  for (auto& [path, node] : nodes) {
    bool is_command = false;
    for (const auto& spec : CommandTable()) is_command |= spec.path == path;
    if (!is_command) node->require_subcommand(1);
  }
  return app;
}

int RunCli(int argc, const char* const* argv, CommandIO io) {
  GlobalOptions globals;
  RunFn chosen;
  std::unique_ptr<CLI::App> app_owner = BuildApp(globals, chosen);
  CLI::App& app = *app_owner;
  // Everything after the first "--" is a remote command, never flags (kubectl's
  // ArgsLenAtDash): split it off before CLI11 sees it.
  std::vector<const char*> args(argv, argv + argc);
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) != "--") continue;
    globals.dash_dash = true;
    globals.after_dash.assign(argv + i + 1, argv + argc);
    args.resize(i);
    break;
  }
  argc = static_cast<int>(args.size());
  argv = args.data();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    io.out << app.help();
    return exit_status::kOk;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      std::ostringstream out, err;
      app.exit(e, out, err);
      io.out << out.str();
      return exit_status::kOk;
    }
    io.err << "error: " << e.what() << "\n";
    io.err << "See 'kproxy --help' for usage.\n";
    return exit_status::kUsage;
  }
  if (globals.dash_dash && !globals.after_dash.empty() && !globals.takes_command) {
    io.err << "error: unexpected arguments after \"--\"\n";
    return exit_status::kUsage;
  }
  if (!chosen) {
    io.err << "error: no command given\n";
    return exit_status::kUsage;
  }
  SetVerbosity(globals.verbosity);
  try {
    return chosen(globals, io);
  } catch (const std::exception& e) {
    io.err << "error: internal error: " << Redact(e.what()) << "\n";
    return exit_status::kInternal;
  }
}

}  // namespace kproxy::cli
