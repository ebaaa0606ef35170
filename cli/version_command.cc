#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.h"
#include "core/base/build_info.h"
#include "core/base/exit_code.h"

namespace kproxy::cli {

CommandSpec VersionCommand() {
  return CommandSpec{
      "version", "Print the kproxy version",
      "  # Print the version\n  kproxy version\n\n  # As JSON\n  kproxy version -o json\n",
      [](CLI::App& app) -> RunFn {
        auto output = std::make_shared<std::string>();
        app.add_option("-o,--output", *output, "Output format: json or yaml")
            ->check(CLI::IsMember({"json", "yaml"}));
        return [output](const GlobalOptions&, CommandIO& io) {
          nlohmann::json client = {{"gitVersion", "v" KPROXY_VERSION}, {"platform", Platform()}};
          if (*output == "json") {
            io.out << nlohmann::json{{"clientVersion", client}}.dump(2) << "\n";
          } else if (*output == "yaml") {
            io.out << "clientVersion:\n  gitVersion: v" KPROXY_VERSION "\n  platform: "
                   << Platform() << "\n";
          } else {
            io.out << "Client Version: v" KPROXY_VERSION "\n";
          }
          return exit_status::kOk;
        };
      }};
}

}  // namespace kproxy::cli
