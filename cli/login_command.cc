// `kproxy login --server URL`: sign in to an access proxy now and cache the session
// (auth.md §4). Always signs in afresh; ignores the cooldown after an abandoned login.
#include <CLI/CLI.hpp>
#include <ostream>

#include "auth/access_proxy_session.h"
#include "auth/context_route.h"
#include "auth/credentials.h"
#include "auth/jwt_claims.h"
#include "auth/process_auth.h"
#include "auth/route_http_client.h"
#include "cli/commands.h"
#include "core/base/exit_code.h"
#include "core/base/log.h"

namespace kproxy::cli {
namespace {

struct LoginOptions {
  std::string browser_cmd;
  bool no_browser = false;
  std::string login_timeout = "5m";
};

int RunLogin(const LoginOptions& o, const GlobalOptions& g, CommandIO& io) {
  auto fail = [&](const Error& e) {
    io.err << "error: " << Redact(e.message) << "\n";
    return ExitStatusFor(e.code);
  };
  auth::AuthEnvironment env = auth::AuthEnvironment::Process();
  auto route = auth::RouteFromFlags(g.overrides, env.getenv);
  if (!route) return fail(route.error());
  auto timeout = auth::ParseDuration(o.login_timeout);
  if (!timeout) return fail(timeout.error());
  auto cache = auth::ProcessTokenCache(env);
  if (!cache) return fail(cache.error());
  if (auto ci = env.getenv("CI"); ci && *ci == "true") {
    return fail(MakeError(ErrorCode::kLoginRequired,
                          "CI=true: no browser sign-in in CI; use --service-account-file with "
                          "kproxy credential"));
  }
  auth::SessionOptions so;
  so.route = route->route;
  so.browser_cmd = o.browser_cmd;
  so.no_browser = o.no_browser;
  so.login_timeout = *timeout;
  // The user asked for a sign-in: the URL is printed, so no terminal is needed to follow it.
  so.interactive = true;
  so.force_login = true;
  so.respect_cooldown = false;
  RestConfig route_config;
  route_config.server = so.route;
  route_config.ca_data = route->ca_pem;
  route_config.insecure_skip_tls_verify = route->insecure_skip_tls_verify;
  auto http = auth::MakeRouteHttpClient(route_config);
  auth::SigintCancel sigint;
  auth::SessionDeps deps;
  deps.http = http.get();
  deps.env = &env;
  deps.cache = &*cache;
  deps.open_browser = auth::MakeProcessBrowserOpener(o.browser_cmd, env.getenv);
  deps.stdin_stream = &io.in;
  deps.cancel = sigint.flag();
  auto session = auth::AcquireSession(so, deps);
  if (!session) return fail(session.error());
  std::string who;
  if (auto claims = auth::DecodeJwtClaims(session->jwt)) {
    who = !claims->email.empty() ? claims->email : claims->sub;
  }
  io.err << "Logged in to " << session->route << (who.empty() ? "" : " as " + who) << "\n";
  return exit_status::kOk;
}

}  // namespace

CommandSpec LoginCommand() {
  return CommandSpec{
      "login", "Sign in to a zero-trust access proxy and cache the session",
      "  # Sign in through the browser\n  kproxy login --server https://k8s.example.com\n\n"
      "  # The route of a kubeconfig context\n  kproxy login --context corp\n\n"
      "  # Print the sign-in URL only\n  kproxy login --server https://k8s.example.com "
      "--no-browser\n",
      [](CLI::App& app) -> RunFn {
        auto o = std::make_shared<LoginOptions>();
        app.add_option("--browser-cmd", o->browser_cmd, "Command that opens the sign-in URL");
        app.add_flag("--no-browser", o->no_browser, "Only print the sign-in URL");
        app.add_option("--login-timeout", o->login_timeout, "How long to wait for sign-in (5m)");
        return [o](const GlobalOptions& g, CommandIO& io) { return RunLogin(*o, g, io); };
      }};
}

}  // namespace kproxy::cli
