// Side effects of the identity code, injected so tests can fake them (style.md §6).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/result.h"

namespace kproxy::auth {

using SystemClockTime = std::chrono::system_clock::time_point;

struct AuthEnvironment {
  std::function<SystemClockTime()> now;
  // `bytes` random bytes from a CSPRNG, hex-encoded.
  std::function<Result<std::string>(size_t bytes)> random_hex;
  std::function<std::optional<std::string>(const std::string&)> getenv;
  std::function<bool()> stdin_is_terminal;
  // A message for the person at the terminal (stderr; never stdout).
  std::function<void(std::string_view)> tell_user;

  // The real process: system clock, OpenSSL RAND_bytes, ::getenv, isatty(0), stderr.
  static AuthEnvironment Process();
};

// OpenSSL RAND_bytes → lower-case hex; kInternal when the CSPRNG fails.
Result<std::string> CryptoRandomHex(size_t bytes);

}  // namespace kproxy::auth
