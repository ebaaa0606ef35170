// The live CompletionSource behind `kproxy __complete`: contexts, clusters and users from the
// merged kubeconfig; namespaces, pods and containers from the cluster.
#pragma once

#include <chrono>
#include <memory>

#include "cli/completion.h"
#include "core/kubeconfig/overrides.h"

namespace kproxy::cli {

// Consumes the global flags found on the command line being completed (--kubeconfig, --server,
// --token ...). Every cluster request is bounded by `timeout` (completion must never hang a
// shell); any failure yields no candidates and no output.
std::unique_ptr<CompletionSource> MakeLiveCompletionSource(const ConfigOverrides& overrides,
                                                           std::chrono::milliseconds timeout);

}  // namespace kproxy::cli
