// Wires the real process side effects for the identity commands: environment, token cache
// directory, route HTTP client, browser opener and a SIGINT flag that cancels a login.
#pragma once

#include <atomic>
#include <memory>

#include "auth/auth_env.h"
#include "auth/browser_opener.h"
#include "auth/token_cache.h"
#include "core/base/result.h"

namespace kproxy::auth {

// While alive, SIGINT sets flag() instead of killing the process (the login loop polls it
// and unwinds cleanly); the previous handler is restored on destruction.
class SigintCancel {
 public:
  SigintCancel();
  ~SigintCancel();
  SigintCancel(const SigintCancel&) = delete;
  SigintCancel& operator=(const SigintCancel&) = delete;
  const std::atomic<bool>* flag() const;
};

// The cache in ${XDG_CACHE_HOME:-~/.cache}/kproxy for this process's environment.
Result<TokenCache> ProcessTokenCache(AuthEnvironment& env);

// "3m ago", "in 2h" style relative times for status output.
std::string RelativeTime(int64_t then, int64_t now);

}  // namespace kproxy::auth
