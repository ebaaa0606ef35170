// `kproxy __complete WORDS...`: the hidden command the completion scripts call (kubectl's
// __complete). Prints one candidate per line for the last word and always exits 0.
#include <CLI/CLI.hpp>
#include <chrono>
#include <memory>
#include <ostream>

#include "cli/commands.h"
#include "cli/completion.h"
#include "cli/completion_source.h"
#include "core/base/exit_code.h"

namespace kproxy::cli {
namespace {

// Live lookups happen while the user waits at a prompt.
constexpr std::chrono::milliseconds kLookupTimeout{2000};

// The global connection flags present in `words` (up to "--"), parsed by the same CLI11
// options the real command would use, so --kubeconfig, --server, --token ... select the same
// cluster the completed command will talk to.
ConfigOverrides OverridesFromWords(const std::vector<std::string>& words) {
  GlobalOptions globals;
  RunFn unused;
  std::unique_ptr<CLI::App> app = BuildApp(globals, unused);
  const size_t n = words.empty() ? 0 : words.size() - 1;  // the last word is being typed
  for (size_t i = 0; i < n; ++i) {
    const std::string& w = words[i];
    if (w == "--") break;
    if (w.size() < 2 || w[0] != '-') continue;
    std::string name = w, value;
    bool inline_value = false;
    if (auto eq = w.find('='); eq != std::string::npos && w.rfind("--", 0) == 0) {
      name = w.substr(0, eq);
      value = w.substr(eq + 1);
      inline_value = true;
    }
    CLI::Option* opt = nullptr;
    for (CLI::Option* o : app->get_options({})) {
      if (o->get_positional()) continue;
      if (name.rfind("--", 0) == 0 ? o->check_lname(name.substr(2))
                                   : name.size() == 2 && o->check_sname(name.substr(1)))
        opt = o;
    }
    if (!opt) continue;
    if (opt->get_expected_min() == 0) {  // a flag
      opt->add_result(inline_value ? value : "true");
    } else if (inline_value) {
      opt->add_result(value);
    } else if (i + 1 < n) {
      opt->add_result(words[++i]);
    } else {
      continue;
    }
    try {
      opt->run_callback();
    } catch (const CLI::Error&) {
      // A malformed value on a half-typed line: ignore it, completion must stay quiet.
    }
    opt->clear();
  }
  return globals.overrides;
}

}  // namespace

CommandSpec CompleteCommand() {
  CommandSpec spec{
      "__complete", "Print completion candidates for a partial command line (used by scripts)",
      "  # Candidates for `kproxy exec -n <TAB>`\n  kproxy __complete exec -n ''\n",
      [](CLI::App& app) -> RunFn {
        // Every remaining argument must reach us raw: no fallthrough to the global flags, no
        // --help, and the first unknown word makes CLI11 pass the rest through untouched.
        app.fallthrough(false);
        app.prefix_command();
        app.allow_extras();
        app.set_help_flag();
        CLI::App* node = &app;
        return [node](const GlobalOptions& globals, CommandIO& io) {
          std::vector<std::string> words = node->remaining();
          // RunCli splits the line at the first "--" before parsing (kubectl's ArgsLenAtDash);
          // put it back so the engine sees the whole line.
          if (globals.dash_dash) {
            words.push_back("--");
            words.insert(words.end(), globals.after_dash.begin(), globals.after_dash.end());
          }
          if (words.empty()) words.push_back("");
          CLI::App* root = node;
          while (root->get_parent()) root = root->get_parent();
          auto source = MakeLiveCompletionSource(OverridesFromWords(words), kLookupTimeout);
          for (const std::string& c : Complete(*root, words, *source)) io.out << c << "\n";
          return exit_status::kOk;
        };
      }};
  spec.hidden = true;
  spec.takes_command = true;  // words after "--" are part of the line being completed
  return spec;
}

}  // namespace kproxy::cli
