// Declarations of every command's spec; the table in command_table.cc lists them in order.
#pragma once

#include "cli/command.h"

namespace kproxy::cli {

CommandSpec VersionCommand();
// Identity (branch auth): auth/ holds the logic, these files only map flags.
CommandSpec LoginCommand();
CommandSpec LogoutCommand();
CommandSpec AuthStatusCommand();
CommandSpec CredentialCommand();
CommandSpec KubeconfigSetCredentialsCommand();

}  // namespace kproxy::cli
