// One Pomerium-compatible programmatic login (auth.md §4): loopback listener, GET
// <route>/.pomerium/api/v1/login, print + open the sign-in URL, wait for the callback that
// carries pomerium_jwt.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "auth/auth_env.h"
#include "auth/browser_opener.h"
#include "core/base/result.h"
#include "core/rest/http_client.h"

namespace kproxy::auth {

inline constexpr std::string_view kPomeriumLoginPath = "/.pomerium/api/v1/login";
inline constexpr std::string_view kPomeriumUserPath = "/.pomerium/user";

struct LoginRequest {
  std::string route;  // normalised route URL (NormalizeRouteUrl)
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  bool no_browser = false;  // only print the URL
};

struct LoginDeps {
  HttpClient* http = nullptr;  // sends to the route; the login request carries no credentials
  AuthEnvironment* env = nullptr;
  BrowserOpener open_browser;  // unused with no_browser
  // Called with the sign-in URL right after it has been printed (the session code stores it
  // beside the lock so waiting processes can print it too).
  std::function<void(const std::string&)> on_sign_in_url;
  const std::atomic<bool>* cancel = nullptr;  // set by a SIGINT handler
};

// Consumes a route, emits the sign-in URL on stderr (through env->tell_user) and to the
// browser, returns the session JWT. Errors: kUnavailable/kProtocol when the route is not an
// access proxy or refuses the redirect, kTimeout, kCancelled.
Result<std::string> LoginToAccessProxy(const LoginRequest& request, const LoginDeps& deps);

// The Authorization header value for a Pomerium session JWT: "Bearer Pomerium-<JWT>".
std::string PomeriumAuthorization(std::string_view jwt);

}  // namespace kproxy::auth
