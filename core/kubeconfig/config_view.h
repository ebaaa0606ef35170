// The merged kubeconfig as `kubectl config view` shows it: Go field order for JSON, secrets
// replaced (REDACTED / DATA+OMITTED) unless raw, optionally minified to one context.
#pragma once

#include <optional>
#include <string>

#include "core/base/result.h"
#include "core/kubeconfig/kubeconfig_model.h"

namespace kproxy::kubeconfig {

struct ViewOptions {
  bool raw = false;                    // show secrets and base64 data
  bool minify = false;                 // only the selected context, its cluster and user
  std::optional<std::string> context;  // --context (for --minify)
};

// Consumes a (merged) config; returns the v1 Config object. Errors: --minify without a usable
// context ("current-context must exist in order to minify", kConfig).
Result<Json> ConfigToViewJson(const Config& config, const ViewOptions& options);

// Values that `config view` hides even though kubectl shows them: exec env values and
// auth-provider config entries whose names say they are credentials.
bool IsSecretName(const std::string& name);

}  // namespace kproxy::kubeconfig
