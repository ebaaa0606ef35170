// Declarations of every command's spec; the table in command_table.cc lists them in order.
#pragma once

#include "cli/command.h"

namespace kproxy::cli {

CommandSpec VersionCommand();
CommandSpec ConfigViewCommand();
CommandSpec ConfigGetContextsCommand();
CommandSpec ConfigCurrentContextCommand();
CommandSpec ConfigUseContextCommand();

}  // namespace kproxy::cli
