#include "auth/access_proxy_session.h"

#include <fstream>
#include <iterator>

#include "auth/access_proxy_login.h"
#include "auth/jwt_claims.h"
#include "auth/route_url.h"
#include "core/base/log.h"

namespace kproxy::auth {
namespace {

int64_t UnixNow(AuthEnvironment& env) {
  return std::chrono::duration_cast<std::chrono::seconds>(env.now().time_since_epoch()).count();
}

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::optional<int64_t> ExpiryOf(std::string_view jwt) {
  auto claims = DecodeJwtClaims(jwt);
  if (!claims) return std::nullopt;
  return claims->exp;
}

bool Usable(const CacheEntry& e, int64_t now) {
  if (e.rejected || e.token.empty()) return false;
  return !e.expiry || now + kExpirySafetyMargin.count() < *e.expiry;
}

Error LoginRequired(const std::string& route, const std::string& why) {
  return MakeError(ErrorCode::kLoginRequired, why + "; run: " + LoginCommandFor(route));
}

enum class Probe { kGood, kRejected, kUnknown };

// Not /healthz or /ping: the proxy answers those itself whatever the token (the
// pomerium-cli bug). /.pomerium/user needs a live session and says 401 when it is dead.
Probe ProbeSession(const std::string& route, const std::string& jwt, HttpClient& http) {
  HttpRequest req;
  req.path = route + std::string(kPomeriumUserPath);
  req.headers = {{"Accept", "application/json"}, {"Authorization", PomeriumAuthorization(jwt)}};
  req.authenticate = false;  // the header above is the credential under test
  auto resp = http.Do(req);
  if (!resp) {
    Log(3, "session probe failed: " + resp.error().message);
    return Probe::kUnknown;
  }
  Log(4, "session probe: HTTP " + std::to_string(resp->status));
  if (resp->status >= 200 && resp->status < 300) return Probe::kGood;
  if (resp->status == 401 || (resp->status >= 300 && resp->status < 400)) return Probe::kRejected;
  return Probe::kUnknown;
}

Result<Session> ServiceAccountSession(const std::string& route, const SessionOptions& o,
                                      const SessionDeps& d) {
  // Re-read on every run: projected service-account tokens rotate.
  std::string token;
  if (o.service_account_file == "-") {
    if (d.stdin_stream == nullptr) return MakeError(ErrorCode::kUsage, "no stdin to read from");
    token.assign(std::istreambuf_iterator<char>(*d.stdin_stream), {});
  } else {
    std::ifstream in(o.service_account_file, std::ios::binary);
    if (!in) {
      return MakeError(ErrorCode::kConfig,
                       "cannot read service-account file " + o.service_account_file);
    }
    token.assign(std::istreambuf_iterator<char>(in), {});
  }
  token = Trim(token);
  if (token.empty()) {
    return MakeError(ErrorCode::kConfig, "the service-account token is empty");
  }
  RegisterSecret(token);
  return Session{token, route, "service-account", ExpiryOf(token)};
}

}  // namespace

bool IsInteractive(AuthEnvironment& env, std::optional<bool> exec_info_interactive) {
  if (auto ci = env.getenv("CI"); ci && *ci == "true") return false;
  // kubectl sets spec.interactive only after checking its own stdin is a terminal (and it
  // then hands that stdin to us), so its answer is the authoritative one.
  if (exec_info_interactive.has_value()) return *exec_info_interactive;
  return env.stdin_is_terminal();
}

std::string LoginCommandFor(std::string_view route) {
  return "kproxy login --server " + std::string(route);
}

Result<Session> AcquireSession(const SessionOptions& o, const SessionDeps& d) {
  auto route_or = NormalizeRouteUrl(o.route);
  if (!route_or) return route_or.error();
  const std::string route = *route_or;
  if (!o.service_account_file.empty()) return ServiceAccountSession(route, o, d);

  AuthEnvironment& env = *d.env;
  TokenCache& cache = *d.cache;
  const std::string key = TokenCache::Key(route, kModeBrowser);
  const int64_t start = UnixNow(env);

  // Returns the cached session when it is good (probing at most every kProbeMemory).
  auto try_cached = [&](bool trust_fresh) -> std::optional<Session> {
    auto loaded = cache.Load(key);
    if (!loaded || !loaded->has_value()) return std::nullopt;
    CacheEntry e = **loaded;
    int64_t now = UnixNow(env);
    if (!Usable(e, now)) return std::nullopt;
    RegisterSecret(e.token);
    bool asked_again = !o.caller.empty() && e.last_caller == o.caller;
    bool fresh_probe =
        !asked_again && e.last_good_probe && now - *e.last_good_probe < kProbeMemory.count();
    if (!(fresh_probe || (trust_fresh && e.obtained_at >= start))) {
      switch (ProbeSession(route, e.token, *d.http)) {
        case Probe::kGood:
          e.last_good_probe = now;
          if (Status s = cache.Save(key, e); !s) Log(1, s.error().message);
          break;
        case Probe::kRejected:
          e.rejected = true;
          if (Status s = cache.Save(key, e); !s) Log(1, s.error().message);
          return std::nullopt;
        case Probe::kUnknown:
          break;  // the proxy is unreachable: let the real request report that
      }
    }
    if (!o.caller.empty() && e.last_caller != o.caller) {
      e.last_caller = o.caller;
      if (Status s = cache.Save(key, e); !s) Log(1, s.error().message);
    }
    return Session{e.token, route, "cache", e.expiry};
  };

  if (!o.force_login) {
    if (auto s = try_cached(false)) return *s;
  }

  // While another process holds the lock, print its sign-in URL once instead of opening
  // another tab.
  bool printed_pending = false;
  auto while_waiting = [&] {
    if (d.cancel != nullptr && d.cancel->load()) return false;
    if (printed_pending) return true;
    std::string url = cache.PendingUrl(key);
    if (url.empty()) return true;
    env.tell_user(
        "Another kproxy process is signing in; please visit the following URL to "
        "sign in: " +
        url);
    printed_pending = true;
    return true;
  };
  auto lock_wait = o.login_timeout + std::chrono::seconds(10);

  if (!o.interactive) {
    // A login in progress elsewhere may still give us a session without any prompt.
    if (!cache.PendingUrl(key).empty()) {
      auto lock = cache.Lock(key, lock_wait, while_waiting);
      if (lock) {
        if (auto s = try_cached(true)) return *s;
      }
    }
    return LoginRequired(route,
                         "not signed in to " + route + " and this session is not interactive");
  }
  if (o.respect_cooldown) {
    if (auto at = cache.AbandonedAt(key);
        at && start - *at < kAbandonCooldown.count() && start >= *at) {
      return LoginRequired(route, "a sign-in to " + route + " was abandoned " +
                                      std::to_string(start - *at) + "s ago");
    }
  }

  auto lock = cache.Lock(key, lock_wait, while_waiting);
  if (!lock) return lock.error();
  // Another process may have signed in while we waited.
  if (auto s = try_cached(true); s && (!o.force_login || printed_pending)) return *s;

  LoginRequest req{route, o.login_timeout, o.no_browser};
  LoginDeps ld;
  ld.http = d.http;
  ld.env = d.env;
  ld.open_browser = d.open_browser;
  ld.cancel = d.cancel;
  ld.on_sign_in_url = [&](const std::string& url) {
    if (Status s = cache.SetPendingUrl(key, url); !s) Log(1, s.error().message);
  };
  auto jwt = LoginToAccessProxy(req, ld);
  cache.ClearPendingUrl(key);
  if (!jwt) {
    if (jwt.error().code == ErrorCode::kTimeout || jwt.error().code == ErrorCode::kCancelled) {
      (void)cache.MarkAbandoned(key, UnixNow(env));
    }
    return jwt.error();
  }
  cache.ClearAbandoned(key);
  CacheEntry e;
  e.route = route;
  e.mode = std::string(kModeBrowser);
  e.token = *jwt;
  e.obtained_at = UnixNow(env);
  e.method = "access-proxy-login";
  e.expiry = ExpiryOf(*jwt);
  e.last_good_probe = e.obtained_at;  // the proxy just issued it
  e.last_caller = o.caller;
  if (Status s = cache.Save(key, e); !s) return s.error();
  return Session{e.token, route, e.method, e.expiry};
}

Status MarkSessionRejected(std::string_view route_in, std::string_view jwt, const SessionDeps& d) {
  auto route = NormalizeRouteUrl(route_in);
  if (!route) return route.error();
  std::string key = TokenCache::Key(*route, kModeBrowser);
  auto loaded = d.cache->Load(key);
  if (!loaded) return loaded.error();
  if (!loaded->has_value() || (*loaded)->token != jwt) return Status::Ok();
  CacheEntry e = **loaded;
  e.rejected = true;
  e.last_good_probe.reset();
  return d.cache->Save(key, e);
}

}  // namespace kproxy::auth
