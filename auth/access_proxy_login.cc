#include "auth/access_proxy_login.h"

#include "auth/loopback_callback.h"
#include "auth/route_url.h"
#include "core/base/log.h"

namespace kproxy::auth {
namespace {

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

std::string PomeriumAuthorization(std::string_view jwt) {
  return "Bearer Pomerium-" + std::string(jwt);
}

Result<std::string> LoginToAccessProxy(const LoginRequest& request, const LoginDeps& deps) {
  AuthEnvironment& env = *deps.env;
  auto listener = LoopbackCallbackServer::Open();
  if (!listener) return listener.error();
  auto path_part = env.random_hex(8);
  if (!path_part) return path_part.error();
  auto state = env.random_hex(16);  // 128-bit state
  if (!state) return state.error();
  std::string callback_path = "/" + *path_part + "/callback";
  std::string redirect =
      "http://127.0.0.1:" + std::to_string(listener->port()) + callback_path + "?state=" + *state;

  HttpRequest req;
  req.method = "GET";
  req.path = request.route + std::string(kPomeriumLoginPath) +
             "?pomerium_redirect_uri=" + PercentEncode(redirect);
  req.authenticate = false;  // the login endpoint must never see a stale credential
  Log(4, "GET " + request.route + std::string(kPomeriumLoginPath));
  auto resp = deps.http->Do(req);
  if (!resp) {
    return MakeError(resp.error().code, "cannot reach the access proxy at " + request.route + ": " +
                                            resp.error().message);
  }
  switch (resp->status) {
    case 200:
      break;
    case 400:
      return MakeError(ErrorCode::kConfig,
                       "the access proxy at " + request.route +
                           " refused the login redirect (400): its policy does not allow "
                           "redirects to a loopback address for this route");
    case 404:
      return MakeError(ErrorCode::kConfig,
                       "no access-proxy login endpoint at " + request.route +
                           " (404): is this route served by a Pomerium-compatible proxy?");
    case 405:
      return MakeError(ErrorCode::kProtocol, "the access proxy at " + request.route +
                                                 " rejected the login request method (405)");
    default:
      return MakeError(ErrorCode::kUnavailable, "the access proxy at " + request.route +
                                                    " answered the login request "
                                                    "with HTTP " +
                                                    std::to_string(resp->status));
  }
  std::string sign_in = Trim(resp->body);
  if (sign_in.rfind("https://", 0) != 0 && sign_in.rfind("http://", 0) != 0) {
    return MakeError(ErrorCode::kProtocol,
                     "the access proxy's login endpoint did not return a sign-in URL");
  }
  if (sign_in.find_first_of(" \r\n\t") != std::string::npos) {
    return MakeError(ErrorCode::kProtocol, "the sign-in URL returned by the proxy is malformed");
  }
  // Print first: if the browser cannot be opened the user can still copy the URL.
  env.tell_user("Please visit the following URL to sign in: " + sign_in);
  if (deps.on_sign_in_url) deps.on_sign_in_url(sign_in);
  if (!request.no_browser && deps.open_browser) {
    if (Status s = deps.open_browser(sign_in); !s) {
      env.tell_user("kproxy: could not open a browser (" + s.error().message + ")");
    }
  }
  auto deadline = std::chrono::steady_clock::now() + request.timeout;
  auto jwt = listener->WaitForToken(callback_path, *state, deadline, deps.cancel);
  if (!jwt) {
    if (jwt.error().code == ErrorCode::kTimeout) {
      return MakeError(ErrorCode::kTimeout, "sign-in was not completed within the login timeout");
    }
    return jwt.error();
  }
  RegisterSecret(*jwt);
  return jwt;
}

}  // namespace kproxy::auth
