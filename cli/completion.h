// Shell completion driven by the command table at run time (like kubectl's hidden
// __complete): the bash/zsh/fish scripts only call `kproxy __complete WORDS...`, so they can
// never drift from the CLI. Live names (contexts, namespaces, pods, containers) come from a
// CompletionSource.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace kproxy::cli {

// Where dynamic candidates come from. The real one reads kubeconfig and asks the cluster with
// a short timeout; tests use a fake. Every method returns {} on any failure.
class CompletionSource {
 public:
  virtual ~CompletionSource() = default;
  virtual std::vector<std::string> Contexts() = 0;
  virtual std::vector<std::string> Clusters() = 0;
  virtual std::vector<std::string> Users() = 0;
  virtual std::vector<std::string> Namespaces(const std::string& context) = 0;
  virtual std::vector<std::string> Pods(const std::string& context, const std::string& ns) = 0;
  virtual std::vector<std::string> Containers(const std::string& context, const std::string& ns,
                                              const std::string& pod) = 0;
};

// Candidates for the last element of `words` (the words after "kproxy"; the last may be "").
std::vector<std::string> Complete(CLI::App& app, const std::vector<std::string>& words,
                                  CompletionSource& source);

// The script for "bash", "zsh" or "fish"; "" for any other shell.
std::string CompletionScript(const std::string& shell);

// The kproxy(1) man page in roff, from the same tree.
std::string ManPage(CLI::App& app);

}  // namespace kproxy::cli
