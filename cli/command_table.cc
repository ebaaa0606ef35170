#include "cli/commands.h"

namespace kproxy::cli {

const std::vector<CommandSpec>& CommandTable() {
  static const std::vector<CommandSpec> table = {
      VersionCommand(),
      CompletionCommand(),
      ManCommand(),
  };
  return table;
}

}  // namespace kproxy::cli
