// The access-proxy session for one route (auth.md §4, §5): the cached JWT when it is still
// good (probe remembered ~60 s), else one login at a time across processes (flock), or a
// service-account token for CI. Also the rejected mark used by the 401 self-healing path.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>

#include "auth/auth_env.h"
#include "auth/browser_opener.h"
#include "auth/token_cache.h"
#include "core/base/result.h"
#include "core/rest/http_client.h"

namespace kproxy::auth {

inline constexpr std::chrono::seconds kProbeMemory{60};
inline constexpr std::chrono::seconds kAbandonCooldown{60};
// A token this close to its expiry is treated as expired (and reported so to kubectl).
inline constexpr std::chrono::seconds kExpirySafetyMargin{30};
inline constexpr std::string_view kModeBrowser = "browser";
inline constexpr std::string_view kModeServiceAccount = "service-account";

struct SessionOptions {
  std::string route;                 // as given by the user; normalised inside
  std::string service_account_file;  // "" = none, "-" = stdin (env var resolved by the caller)
  std::string browser_cmd;           // "" = $BROWSER / xdg-open
  bool no_browser = false;
  std::chrono::milliseconds login_timeout{std::chrono::minutes(5)};
  bool interactive = false;      // may a browser be opened? (see IsInteractive)
  bool force_login = false;      // `kproxy login`: sign in even with a good cached session
  bool respect_cooldown = true;  // plugin mode: no new tab right after an abandoned login
  // Plugin mode: who is asking (the parent process, "pid:N"). client-go re-runs its exec
  // plugin only after a 401 (we give no expiry), so a caller asking again for the token it
  // was already given means the proxy refused it: probe now, whatever the probe memory says.
  std::string caller;
};

struct SessionDeps {
  HttpClient* http = nullptr;
  AuthEnvironment* env = nullptr;
  TokenCache* cache = nullptr;
  BrowserOpener open_browser;
  std::istream* stdin_stream = nullptr;  // for --service-account-file -
  const std::atomic<bool>* cancel = nullptr;
};

struct Session {
  std::string jwt;  // secret
  std::string route;
  std::string method;             // "cache", "access-proxy-login", "service-account"
  std::optional<int64_t> expiry;  // unix seconds, from the JWT's exp
};

// Interactive = CI is not "true" and either the plugin caller's spec.interactive (when
// KUBERNETES_EXEC_INFO was given) or, without one, stdin is a terminal.
bool IsInteractive(AuthEnvironment& env, std::optional<bool> exec_info_interactive);

// The command a user must run to sign in, quoted in every login-required error.
std::string LoginCommandFor(std::string_view route);

// Consumes options; returns a usable session JWT. kLoginRequired (non-interactive, or the
// cooldown after an abandoned login) names `kproxy login --server <route>`.
Result<Session> AcquireSession(const SessionOptions& options, const SessionDeps& deps);

// Marks `jwt` rejected in the cache when it is the cached token for `route` (401 seen).
Status MarkSessionRejected(std::string_view route, std::string_view jwt, const SessionDeps& deps);

}  // namespace kproxy::auth
