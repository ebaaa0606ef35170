// The command table: each command is an options struct + run, registered in one table that
// drives dispatch, --help, the man page and the completion scripts.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "core/kubeconfig/overrides.h"

namespace CLI {
class App;
}

namespace kproxy::cli {

// Injected I/O so commands are testable on buffers.
struct CommandIO {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
};

// Options every command sees (kubectl's global flags).
struct GlobalOptions {
  ConfigOverrides overrides;
  int verbosity = 0;
  // Words after the first "--" (exec's remote command), kept out of flag parsing.
  bool dash_dash = false;
  std::vector<std::string> after_dash;
  bool takes_command = false;  // set by the chosen command's spec
};

// A parsed command ready to run; returns the process exit status.
using RunFn = std::function<int(const GlobalOptions&, CommandIO&)>;

struct CommandSpec {
  std::string path;     // "version", "config view", "get" ... (space-separated for nesting)
  std::string summary;  // one line
  std::string example;  // kubectl-style examples for --help and the man page
  // Adds options/positionals to `app` and returns the function to run once parsed.
  std::function<RunFn(CLI::App& app)> setup;
  bool hidden = false;  // internal commands (__complete): not in help or completions
  bool takes_command = false;  // accepts "-- COMMAND..." (GlobalOptions::after_dash)
};

const std::vector<CommandSpec>& CommandTable();

// Builds the CLI11 tree for the whole table; parsing fills `globals` and sets `chosen`.
std::unique_ptr<CLI::App> BuildApp(GlobalOptions& globals, RunFn& chosen);

// Parses argv against the table and runs the chosen command. Never throws.
int RunCli(int argc, const char* const* argv, CommandIO io);

}  // namespace kproxy::cli
