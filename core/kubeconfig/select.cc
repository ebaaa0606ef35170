#include "core/kubeconfig/select.h"

namespace kproxy::kubeconfig {

Result<Selection> Select(const Config& config, const ConfigOverrides& o) {
  Selection sel;
  sel.context = o.context.value_or(config.current_context);
  Context ctx;
  if (!sel.context.empty()) {
    auto it = config.contexts.find(sel.context);
    if (it == config.contexts.end()) {
      return MakeError(ErrorCode::kNotFound,
                       "context was not found for specified context: " + sel.context);
    }
    ctx = it->second;
  }
  sel.cluster = o.cluster.value_or(ctx.cluster);
  sel.user = o.user.value_or(ctx.user);

  if (sel.cluster.empty()) {
    if (!o.server) {
      std::string why = sel.context.empty()
                            ? "current-context is not set and no --context was given"
                            : "context \"" + sel.context + "\" names no cluster";
      return MakeError(ErrorCode::kConfig,
                       "invalid configuration: no configuration has been provided (" + why + ")");
    }
  } else if (!config.clusters.count(sel.cluster)) {
    return MakeError(ErrorCode::kNotFound, "no server found for cluster \"" + sel.cluster + "\"");
  }
  if (!sel.user.empty() && !config.users.count(sel.user)) {
    // kubectl silently goes anonymous when a context names a missing user; a typo then shows
    // up as a confusing 401/403, so kproxy reports it.
    if (o.user) {
      return MakeError(ErrorCode::kNotFound, "auth info \"" + sel.user + "\" does not exist");
    }
    return MakeError(ErrorCode::kNotFound,
                     "user \"" + sel.user + "\" was not found for context \"" + sel.context + "\"");
  }
  if (o.namespace_ && !o.namespace_->empty()) {
    sel.namespace_ = *o.namespace_;
  } else if (!ctx.namespace_.empty()) {
    sel.namespace_ = ctx.namespace_;
  }
  return sel;
}

}  // namespace kproxy::kubeconfig
