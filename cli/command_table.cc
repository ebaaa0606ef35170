#include "cli/commands.h"

namespace kproxy::cli {

const std::vector<CommandSpec>& CommandTable() {
  static const std::vector<CommandSpec> table = {
      VersionCommand(),    LoginCommand(),      LogoutCommand(),
      AuthStatusCommand(), CredentialCommand(), KubeconfigSetCredentialsCommand(),
  };
  return table;
}

}  // namespace kproxy::cli
