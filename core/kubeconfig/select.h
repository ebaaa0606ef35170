// Which context, cluster, user and namespace a command uses: --context else current-context;
// --cluster/--user override the context's; -n else the context's namespace else "default".
#pragma once

#include <string>

#include "core/base/result.h"
#include "core/kubeconfig/kubeconfig_model.h"
#include "core/kubeconfig/overrides.h"

namespace kproxy::kubeconfig {

struct Selection {
  std::string context;  // "" when none is selected (only --server given)
  std::string cluster;  // "" only with --server
  std::string user;     // "" = anonymous
  std::string namespace_ = "default";
};

// Consumes the merged config and the flags; returns names that exist in `config`, or kubectl's
// errors: kNotFound for an unknown context/cluster/user, kConfig when nothing is selected.
Result<Selection> Select(const Config& config, const ConfigOverrides& overrides);

}  // namespace kproxy::kubeconfig
