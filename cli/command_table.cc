#include "cli/commands.h"

namespace kproxy::cli {

const std::vector<CommandSpec>& CommandTable() {
  static const std::vector<CommandSpec> table = {
      VersionCommand(),           ConfigViewCommand(),
      ConfigGetContextsCommand(), ConfigCurrentContextCommand(),
      ConfigUseContextCommand(),
      VersionCommand(),
      GetCommand(),
  };
  return table;
}

}  // namespace kproxy::cli
