// kubeconfig loading, merging and selection exactly as client-go does (auth.md §1).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "core/base/result.h"
#include "core/kubeconfig/overrides.h"
#include "core/kubeconfig/rest_config.h"

namespace kproxy {

// Side effects come in through this struct so tests can fake them.
struct KubeconfigEnvironment {
  std::function<std::optional<std::string>(const std::string&)> getenv;  // env lookup
  std::string home_dir;                                                  // for ~/.kube/config
  std::string cwd;  // for command-line relative paths
  std::string in_cluster_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  static KubeconfigEnvironment Process();  // the real process environment
};

// Loads, merges, selects and validates: the connection settings for one command.
// Consumes the flags and the environment (files are read from disk); returns the RestConfig with
// paths resolved and referenced files (CA, client cert/key) read, or one line of kubectl's
// wording: kNotFound for an unknown context/cluster/user or a missing --kubeconfig, kConfig for
// malformed files and invalid settings, kUsage for a bad --request-timeout. Registers every
// secret it reads (tokens, passwords, keys, secret-looking exec env values) with
// RegisterSecret(). Falls back to the in-cluster service account when no kubeconfig exists.
Result<RestConfig> LoadRestConfig(const ConfigOverrides& overrides,
                                  const KubeconfigEnvironment& env);

}  // namespace kproxy
