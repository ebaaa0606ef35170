// Which kubeconfig files a command reads, and their merge, exactly as client-go's loading
// rules: --kubeconfig alone (must exist); else $KUBECONFIG split on ':' (duplicates and empty
// entries dropped, missing files skipped); else ~/.kube/config. First file to define a name wins.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/kubeconfig/kubeconfig_model.h"
#include "core/kubeconfig/loader.h"

namespace kproxy::kubeconfig {

struct Source {
  std::string label;  // as the user wrote it, for messages
  std::string path;   // absolute
};

// Consumes --kubeconfig (if given) and the environment; returns the existing files in
// precedence order (possibly none). Errors: an explicit file that does not exist (kNotFound).
Result<std::vector<Source>> KubeconfigSources(const std::optional<std::string>& explicit_path,
                                              const KubeconfigEnvironment& env);

// Reads a whole file (bounded to 16 MiB). Errors name the file: `open F: <reason>`.
Result<std::string> ReadSmallFile(const std::string& path);

// Parses every source and merges them; the first definition of each name and the first
// current-context win. Errors are the parser's one-line messages.
Result<Config> LoadMergedConfig(const std::vector<Source>& sources);

struct LoadedKubeconfig {
  std::vector<Source> sources;  // the files read, in precedence order
  Config merged;
};

// KubeconfigSources + LoadMergedConfig: what `config` commands show and edit.
Result<LoadedKubeconfig> LoadKubeconfig(const std::optional<std::string>& explicit_path,
                                        const KubeconfigEnvironment& env);

// Merges `later` under `into` (entries `into` already has are kept whole).
void MergeConfig(Config& into, Config later);

// `path` made absolute against `base_dir` (unchanged when already absolute or empty).
std::string ResolvePath(const std::string& path, const std::string& base_dir);
std::string DirName(const std::string& path);

}  // namespace kproxy::kubeconfig
