// `kproxy config get-contexts | current-context | use-context`: kubectl's context commands.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <ostream>

#include "cli/commands.h"
#include "cli/error_output.h"
#include "core/base/exit_code.h"
#include "core/base/log.h"
#include "core/kubeconfig/kubeconfig_files.h"
#include "core/kubeconfig/kubeconfig_write.h"

namespace kproxy::cli {
namespace {

Result<kubeconfig::LoadedKubeconfig> Load(const GlobalOptions& g) {
  return kubeconfig::LoadKubeconfig(g.overrides.kubeconfig, KubeconfigEnvironment::Process());
}

// Go's text/tabwriter as kubectl configures it (minwidth 6, padding 3): every cell but the last
// in a row is padded to its column's widest cell plus three spaces.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows)
    for (size_t i = 0; i + 1 < row.size(); ++i) {
      if (width.size() <= i) width.resize(i + 1, 0);
      width[i] = std::max(width[i], std::max<size_t>(row[i].size() + 3, 6));
    }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out += std::string(width[i] - row[i].size(), ' ');
    }
    out += "\n";
  }
  return out;
}

int RunGetContexts(const std::vector<std::string>& names, const std::string& output,
                   const GlobalOptions& g, CommandIO& io) {
  auto loaded = Load(g);
  if (!loaded.ok()) return ReportError(io, loaded.error());
  const auto& cfg = loaded->merged;
  std::vector<std::string> selected, missing;
  if (names.empty()) {
    for (const auto& kv : cfg.contexts) selected.push_back(kv.first);
  } else {
    for (const auto& n : names) (cfg.contexts.count(n) ? selected : missing).push_back(n);
  }
  if (output == "name") {
    for (const auto& n : selected) io.out << n << "\n";
  } else {
    std::vector<std::vector<std::string>> rows = {
        {"CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"}};
    for (const auto& n : selected) {
      const auto& ctx = cfg.contexts.at(n);
      rows.push_back(
          {n == cfg.current_context ? "*" : "", n, ctx.cluster, ctx.user, ctx.namespace_});
    }
    io.out << Table(rows);
  }
  if (!missing.empty()) {
    for (const auto& n : missing) io.err << "error: context " << n << " not found\n";
    return ExitStatusFor(ErrorCode::kNotFound);
  }
  return exit_status::kOk;
}

int RunCurrentContext(const GlobalOptions& g, CommandIO& io) {
  auto loaded = Load(g);
  if (!loaded.ok()) return ReportError(io, loaded.error());
  if (loaded->merged.current_context.empty())
    return ReportError(io, MakeError(ErrorCode::kConfig, "current-context is not set"));
  io.out << loaded->merged.current_context << "\n";
  return exit_status::kOk;
}

int RunUseContext(const std::string& name, const GlobalOptions& g, CommandIO& io) {
  auto loaded = Load(g);
  if (!loaded.ok()) return ReportError(io, loaded.error());
  if (!loaded->merged.contexts.count(name)) {
    return ReportError(
        io, MakeError(ErrorCode::kNotFound, "no context exists with the name: \"" + name + "\""));
  }
  auto owner = kubeconfig::CurrentContextOwner(loaded->sources);
  if (!owner.ok()) return ReportError(io, owner.error());
  auto text = kubeconfig::ReadSmallFile(owner->path);
  if (!text.ok()) return ReportError(io, text.error());
  auto edited = kubeconfig::SetCurrentContextText(*text, name);
  if (!edited.ok()) {
    return ReportError(io, MakeError(ErrorCode::kConfig, "cannot update \"" + owner->label +
                                                             "\": " + edited.error().message));
  }
  if (Status s = kubeconfig::WriteFileAtomic(owner->path, *edited); !s.ok())
    return ReportError(io, s.error());
  io.out << "Switched to context \"" << name << "\".\n";
  return exit_status::kOk;
}

}  // namespace

CommandSpec ConfigGetContextsCommand() {
  return CommandSpec{
      "config get-contexts", "Describe one or many contexts",
      "  # List all the contexts in your kubeconfig file\n  kproxy config get-contexts\n\n"
      "  # Describe one context\n  kproxy config get-contexts my-context\n",
      [](CLI::App& app) -> RunFn {
        auto names = std::make_shared<std::vector<std::string>>();
        auto output = std::make_shared<std::string>();
        app.add_option("names", *names, "Context names to show");
        app.add_option("-o,--output", *output, "Output format: name")
            ->check(CLI::IsMember({"name"}));
        return [names, output](const GlobalOptions& g, CommandIO& io) {
          return RunGetContexts(*names, *output, g, io);
        };
      }};
}

CommandSpec ConfigCurrentContextCommand() {
  return CommandSpec{
      "config current-context", "Display the current-context",
      "  # Display the current-context\n  kproxy config current-context\n", [](CLI::App&) -> RunFn {
        return [](const GlobalOptions& g, CommandIO& io) { return RunCurrentContext(g, io); };
      }};
}

CommandSpec ConfigUseContextCommand() {
  return CommandSpec{
      "config use-context", "Set the current-context in a kubeconfig file",
      "  # Use the context for the minikube cluster\n  kproxy config use-context minikube\n",
      [](CLI::App& app) -> RunFn {
        auto name = std::make_shared<std::string>();
        app.add_option("name", *name, "Context to switch to")->required();
        return
            [name](const GlobalOptions& g, CommandIO& io) { return RunUseContext(*name, g, io); };
      }};
}

}  // namespace kproxy::cli
