// Declarations of every command's spec; the table in command_table.cc lists them in order.
#pragma once

#include "cli/command.h"

namespace kproxy::cli {

CommandSpec VersionCommand();
CommandSpec CompletionCommand();  // completion bash|zsh|fish
CommandSpec ManCommand();         // __man (hidden, generates kproxy.1 at build time)

}  // namespace kproxy::cli
