// `kproxy completion bash|zsh|fish`: prints the shell script, which only calls back into
// `kproxy __complete`, so candidates always come from the binary's own command table.
#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>

#include "cli/commands.h"
#include "cli/completion.h"
#include "core/base/exit_code.h"

namespace kproxy::cli {

CommandSpec CompletionCommand() {
  return CommandSpec{
      "completion", "Print the shell completion script for bash, zsh or fish",
      "  # Load completion into the current bash shell (needs bash-completion)\n"
      "  source <(kproxy completion bash)\n"
      "\n"
      "  # Install it for every new bash shell of this user\n"
      "  kproxy completion bash > ~/.local/share/bash-completion/completions/kproxy\n"
      "\n"
      "  # zsh: write it to a directory on $fpath, then restart zsh\n"
      "  kproxy completion zsh > \"${fpath[1]}/_kproxy\"\n"
      "\n"
      "  # fish\n"
      "  kproxy completion fish > ~/.config/fish/completions/kproxy.fish\n",
      [](CLI::App& app) -> RunFn {
        auto shell = std::make_shared<std::string>();
        // Checked here rather than with CLI::IsMember so the error names the accepted shells
        // the way kubectl's does; both end in the usage exit status.
        app.add_option("shell", *shell, "bash, zsh or fish")->required();
        return [shell](const GlobalOptions&, CommandIO& io) {
          std::string script = CompletionScript(*shell);
          if (script.empty()) {
            io.err << "error: unsupported shell type \"" << *shell
                   << "\" (supported: bash, zsh, fish)\n";
            return exit_status::kUsage;
          }
          io.out << script;
          return exit_status::kOk;
        };
      }};
}

}  // namespace kproxy::cli
