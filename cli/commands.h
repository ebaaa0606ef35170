// Declarations of every command's spec; the table in command_table.cc lists them in order.
#pragma once

#include "cli/command.h"

namespace kproxy::cli {

CommandSpec VersionCommand();

}  // namespace kproxy::cli
