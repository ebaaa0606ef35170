#include "cli/commands.h"

namespace kproxy::cli {

const std::vector<CommandSpec>& CommandTable() {
  // One entry per line (kept unformatted so parallel additions merge cleanly).
  // clang-format off
  static const std::vector<CommandSpec> table = {
      VersionCommand(),
      GetCommand(),
      ExecCommand(),
      AttachCommand(),
      PortForwardCommand(),
      ConfigViewCommand(),
      ConfigGetContextsCommand(),
      ConfigCurrentContextCommand(),
      ConfigUseContextCommand(),
      LoginCommand(),
      LogoutCommand(),
      AuthStatusCommand(),
      CredentialCommand(),
      KubeconfigSetCredentialsCommand(),
      CompletionCommand(),
      CompleteCommand(),
      ManCommand(),
  };
  // clang-format on
  return table;
}

}  // namespace kproxy::cli
