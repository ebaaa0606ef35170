// Declarations of every command's spec; the table in command_table.cc lists them in order.
#pragma once

#include "cli/command.h"
#include "core/kubeconfig/rest_config.h"
#include "core/rest/get_pods.h"
#include "core/rest/http_client.h"

namespace kproxy::cli {

CommandSpec VersionCommand();
CommandSpec ConfigViewCommand();
CommandSpec ConfigGetContextsCommand();
CommandSpec ConfigCurrentContextCommand();
CommandSpec ConfigUseContextCommand();
CommandSpec GetCommand();
CommandSpec ExecCommand();
CommandSpec AttachCommand();
CommandSpec PortForwardCommand();

// `get pods` after the kubeconfig is resolved: prints to io.out/io.err, returns the exit
// status (cli/get_command.cc). `request.namespace_` is taken from config.
int RunGetPods(const RestConfig& config, GetPodsRequest request, HttpClient& http, CommandIO& io);
// Identity (branch auth): auth/ holds the logic, these files only map flags.
CommandSpec LoginCommand();
CommandSpec LogoutCommand();
CommandSpec AuthStatusCommand();
CommandSpec CredentialCommand();
CommandSpec KubeconfigSetCredentialsCommand();
CommandSpec CompletionCommand();  // completion bash|zsh|fish
CommandSpec CompleteCommand();    // __complete WORDS... (hidden, called by the scripts)
CommandSpec ManCommand();         // __man (hidden, generates kproxy.1 at build time)

}  // namespace kproxy::cli
