// `kproxy __man`: prints kproxy(1) in roff. Hidden: the build runs it to generate the packaged
// man page, so the page always describes the binary it ships with.
#include <CLI/CLI.hpp>
#include <ostream>

#include "cli/commands.h"
#include "cli/completion.h"
#include "core/base/exit_code.h"

namespace kproxy::cli {

CommandSpec ManCommand() {
  CommandSpec spec{"__man", "Print the kproxy(1) man page in roff",
                   "  # Read the page without installing it\n  kproxy __man | man -l -\n",
                   [](CLI::App& app) -> RunFn {
                     CLI::App* node = &app;
                     return [node](const GlobalOptions&, CommandIO& io) {
                       // The page documents the whole tree, so walk up from this node to the root.
                       CLI::App* root = node;
                       while (root->get_parent()) root = root->get_parent();
                       io.out << ManPage(*root);
                       return exit_status::kOk;
                     };
                   }};
  spec.hidden = true;
  return spec;
}

}  // namespace kproxy::cli
