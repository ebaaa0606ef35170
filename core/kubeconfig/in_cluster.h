// client-go's rest.InClusterConfig: the pod's service account, used when no kubeconfig exists.
#pragma once

#include <optional>

#include "core/base/result.h"
#include "core/kubeconfig/loader.h"
#include "core/kubeconfig/rest_config.h"

namespace kproxy::kubeconfig {

// Consumes KUBERNETES_SERVICE_HOST/PORT and <in_cluster_dir>/{token,ca.crt,namespace}.
// Returns nullopt when not in a cluster (host or port unset), the settings when in one, or an
// error naming the unreadable token file.
Result<std::optional<RestConfig>> InClusterConfig(const KubeconfigEnvironment& env);

}  // namespace kproxy::kubeconfig
