// `kproxy logout --server URL | --all`: forget cached access-proxy sessions (auth.md §5).
#include <CLI/CLI.hpp>
#include <ostream>

#include "auth/access_proxy_session.h"
#include "auth/context_route.h"
#include "auth/process_auth.h"
#include "auth/route_url.h"
#include "cli/commands.h"
#include "core/base/exit_code.h"

namespace kproxy::cli {
namespace {

int RunLogout(bool all, const GlobalOptions& g, CommandIO& io) {
  auto fail = [&](const Error& e) {
    io.err << "error: " << e.message << "\n";
    return ExitStatusFor(e.code);
  };
  auth::AuthEnvironment env = auth::AuthEnvironment::Process();
  auto cache = auth::ProcessTokenCache(env);
  if (!cache) return fail(cache.error());
  if (all) {
    auto entries = cache->List();
    if (!entries) return fail(entries.error());
    for (const auto& [key, entry] : *entries) {
      if (Status s = cache->Remove(key); !s) return fail(s.error());
      io.err << "Logged out of " << entry.route << "\n";
    }
    if (entries->empty()) io.err << "No cached sessions\n";
    return exit_status::kOk;
  }
  auto given = auth::RouteFromFlags(g.overrides, env.getenv);
  if (!given) return fail(given.error());
  auto route = auth::NormalizeRouteUrl(given->route);
  if (!route) return fail(route.error());
  std::string key = auth::TokenCache::Key(*route, auth::kModeBrowser);
  auto existing = cache->Load(key);
  if (Status s = cache->Remove(key); !s) return fail(s.error());
  io.err << (existing && existing->has_value() ? "Logged out of " : "Not logged in to ") << *route
         << "\n";
  return exit_status::kOk;
}

}  // namespace

CommandSpec LogoutCommand() {
  return CommandSpec{
      "logout", "Forget cached access-proxy sessions",
      "  # Forget one route's session\n  kproxy logout --server https://k8s.example.com\n\n"
      "  # Forget every session\n  kproxy logout --all\n",
      [](CLI::App& app) -> RunFn {
        auto all = std::make_shared<bool>(false);
        app.add_flag("--all", *all, "Forget every cached session");
        return [all](const GlobalOptions& g, CommandIO& io) { return RunLogout(*all, g, io); };
      }};
}

}  // namespace kproxy::cli
