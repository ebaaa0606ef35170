// What a remotecommand session carries: the exec/attach query booleans.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/base/result.h"

namespace kproxy::remotecommand {

struct StreamOptions {
  bool stdin = false;
  bool stdout = false;
  bool stderr = false;  // ignored with tty: the terminal merges it into stdout
  bool tty = false;
};

// Server role: consumes the decoded query pairs of an exec/attach request; returns the options
// as the API server reads them (strconv.ParseBool values; tty drops stderr, as the kubelet
// does) or kUsage when a value is not a boolean or none of stdin/stdout/stderr is requested.
Result<StreamOptions> StreamOptionsFromQuery(
    const std::vector<std::pair<std::string, std::string>>& query);

}  // namespace kproxy::remotecommand
