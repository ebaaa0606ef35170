// Finds the access-proxy route for a kubeconfig context, for `kproxy login/logout --context`:
// the --server of the context user's `kproxy credential` exec plugin, else the cluster's
// server. Reads the files the way client-go picks them (--kubeconfig alone, else $KUBECONFIG
// entries — first file defining a name wins — else ~/.kube/config). It reads only names and
// two strings; the full loader (core/kubeconfig) stays the one place for everything else.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/kubeconfig/overrides.h"

namespace kproxy::auth {

// The kubeconfig files to read, in precedence order.
std::vector<std::string> KubeconfigFiles(const std::optional<std::string>& explicit_file,
                                         const std::optional<std::string>& kubeconfig_env,
                                         const std::string& home);

// Where to reach the access proxy and how to trust it.
struct ContextRoute {
  std::string route;
  std::string ca_pem;  // the cluster's CA (data, or file resolved against its kubeconfig)
  bool insecure_skip_tls_verify = false;
};

// Consumes a context name ("" = current-context) and the files; returns its route.
// kNotFound for an unknown context, kConfig for an unreadable file or a context without one.
Result<ContextRoute> RouteForContext(const std::string& context,
                                     const std::vector<std::string>& files);

// --server (+ --certificate-authority, --insecure-skip-tls-verify) when given, else the
// route of --context (or the current context).
Result<ContextRoute> RouteFromFlags(
    const ConfigOverrides& overrides,
    const std::function<std::optional<std::string>(const std::string&)>& getenv);

}  // namespace kproxy::auth
