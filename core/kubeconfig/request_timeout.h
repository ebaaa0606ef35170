// kubectl's --request-timeout: "0" (none), a bare integer (seconds) or a Go duration
// ("5s", "1m30s", "250ms", "2h").
#pragma once

#include <chrono>
#include <string_view>

#include "core/base/result.h"

namespace kproxy::kubeconfig {

// Consumes the flag text; returns the timeout (0 = none) or a kUsage error with kubectl's text.
Result<std::chrono::milliseconds> ParseRequestTimeout(std::string_view text);

}  // namespace kproxy::kubeconfig
