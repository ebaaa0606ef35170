// `kproxy config view`: the merged kubeconfig, printed as kubectl prints it.
#include "core/kubeconfig/config_view.h"

#include <CLI/CLI.hpp>
#include <ostream>

#include "cli/commands.h"
#include "core/base/exit_code.h"
#include "core/base/log.h"
#include "core/kubeconfig/kubeconfig_files.h"
#include "core/kubeconfig/yaml_emit.h"

namespace kproxy::cli {
namespace {

struct ViewFlags {
  bool minify = false;
  bool raw = false;
  std::string output = "yaml";
};

int RunView(const ViewFlags& flags, const GlobalOptions& g, CommandIO& io) {
  auto loaded =
      kubeconfig::LoadKubeconfig(g.overrides.kubeconfig, KubeconfigEnvironment::Process());
  if (!loaded.ok()) {
    io.err << "error: " << Redact(loaded.error().message) << "\n";
    return ExitStatusFor(loaded.error().code);
  }
  kubeconfig::ViewOptions options;
  options.minify = flags.minify;
  options.raw = flags.raw;
  options.context = g.overrides.context;
  auto json = kubeconfig::ConfigToViewJson(loaded->merged, options);
  if (!json.ok()) {
    io.err << "error: " << json.error().message << "\n";
    return ExitStatusFor(json.error().code);
  }
  if (flags.output == "json") {
    io.out << json->dump(4) << "\n";
  } else {
    io.out << kubeconfig::JsonToYaml(*json);
  }
  return exit_status::kOk;
}

}  // namespace

CommandSpec ConfigViewCommand() {
  return CommandSpec{
      "config view", "Display merged kubeconfig settings or a specified kubeconfig file",
      "  # Show merged kubeconfig settings (secrets hidden)\n  kproxy config view\n\n"
      "  # Only the current context, with its cluster and user, as JSON\n"
      "  kproxy config view --minify -o json\n",
      [](CLI::App& app) -> RunFn {
        auto flags = std::make_shared<ViewFlags>();
        app.add_flag("--minify", flags->minify,
                     "Remove all information not used by the current context");
        app.add_flag("--raw", flags->raw, "Display raw byte data and sensitive data");
        app.add_option("-o,--output", flags->output, "Output format: yaml or json")
            ->check(CLI::IsMember({"json", "yaml"}));
        return [flags](const GlobalOptions& g, CommandIO& io) { return RunView(*flags, g, io); };
      }};
}

}  // namespace kproxy::cli
