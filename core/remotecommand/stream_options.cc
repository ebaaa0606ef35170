#include "core/remotecommand/stream_options.h"

#include <optional>
#include <string_view>

namespace kproxy::remotecommand {
namespace {

// Go's strconv.ParseBool, which the API server uses to convert PodExecOptions.
std::optional<bool> ParseGoBool(std::string_view v) {
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"})
    if (v == t) return true;
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"})
    if (v == f) return false;
  return std::nullopt;
}

}  // namespace

Result<StreamOptions> StreamOptionsFromQuery(
    const std::vector<std::pair<std::string, std::string>>& query) {
  StreamOptions o;
  for (const auto& [key, value] : query) {
    bool* target = key == "stdin"    ? &o.stdin
                   : key == "stdout" ? &o.stdout
                   : key == "stderr" ? &o.stderr
                   : key == "tty"    ? &o.tty
                                     : nullptr;
    if (target == nullptr) continue;
    std::optional<bool> b = ParseGoBool(value);
    if (!b)
      return MakeError(ErrorCode::kUsage,
                       "invalid boolean value \"" + value + "\" for query parameter " + key);
    *target = *b;
  }
  // The kubelet bypasses stderr with a tty (remotecommand.NewOptions).
  if (o.tty) o.stderr = false;
  if (!o.stdin && !o.stdout && !o.stderr)
    return MakeError(ErrorCode::kUsage, "you must specify at least 1 of stdin, stdout, stderr");
  return o;
}

}  // namespace kproxy::remotecommand
