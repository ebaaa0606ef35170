// `kproxy auth status [-o json]`: who is signed in where (auth.md §5) — identity from the
// JWT's claims (unverified), route, obtained/expiry times, cache path and state. Never the
// token itself.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <ostream>

#include "auth/access_proxy_session.h"
#include "auth/exec_credential.h"
#include "auth/jwt_claims.h"
#include "auth/process_auth.h"
#include "cli/commands.h"
#include "core/base/exit_code.h"

namespace kproxy::cli {
namespace {

std::string Iso(int64_t t) {
  return auth::FormatRfc3339(std::chrono::system_clock::from_time_t(static_cast<std::time_t>(t)));
}

int RunStatus(const std::string& output, CommandIO& io) {
  auth::AuthEnvironment env = auth::AuthEnvironment::Process();
  auto cache = auth::ProcessTokenCache(env);
  if (!cache) {
    io.err << "error: " << cache.error().message << "\n";
    return ExitStatusFor(cache.error().code);
  }
  auto entries = cache->List();
  if (!entries) {
    io.err << "error: " << entries.error().message << "\n";
    return ExitStatusFor(entries.error().code);
  }
  int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(env.now().time_since_epoch()).count();
  nlohmann::json sessions = nlohmann::json::array();
  for (const auto& [key, e] : *entries) {
    nlohmann::json s = {{"route", e.route},
                        {"mode", e.mode},
                        {"method", e.method},
                        {"obtainedAt", Iso(e.obtained_at)},
                        {"cacheFile", cache->EntryPath(key).string()}};
    std::string state = "valid";
    if (e.rejected) {
      state = "rejected";
    } else if (e.expiry && *e.expiry <= now) {
      state = "expired";
    }
    s["state"] = state;
    if (e.expiry) s["expiresAt"] = Iso(*e.expiry);
    if (e.last_good_probe) s["lastGoodProbe"] = Iso(*e.last_good_probe);
    if (auto c = auth::DecodeJwtClaims(e.token)) {
      nlohmann::json id = nlohmann::json::object();
      if (!c->email.empty()) id["email"] = c->email;
      if (!c->name.empty()) id["name"] = c->name;
      if (!c->sub.empty()) id["sub"] = c->sub;
      if (!c->iss.empty()) id["issuer"] = c->iss;
      if (!c->groups.empty()) id["groups"] = c->groups;
      s["identity"] = id;
    }
    sessions.push_back(s);
  }
  if (output == "json") {
    io.out << nlohmann::json{{"cacheDir", cache->dir().string()}, {"sessions", sessions}}.dump(2)
           << "\n";
    return exit_status::kOk;
  }
  io.out << "Cache: " << cache->dir().string() << "\n";
  if (sessions.empty()) io.out << "No sessions. Sign in with: kproxy login --server <route>\n";
  for (size_t i = 0; i < sessions.size(); ++i) {
    const auto& s = sessions[i];
    const auto& e = (*entries)[i].second;
    std::string who = "unknown identity";
    if (s.contains("identity")) {
      const auto& id = s["identity"];
      who = id.contains("email") ? id["email"].get<std::string>()
            : id.contains("sub") ? id["sub"].get<std::string>()
                                 : who;
    }
    io.out << "\n"
           << e.route << "\n  identity: " << who
           << "\n  state:    " << s["state"].get<std::string>()
           << "\n  obtained: " << Iso(e.obtained_at) << " ("
           << auth::RelativeTime(e.obtained_at, now) << ")\n  expires:  "
           << (e.expiry ? Iso(*e.expiry) + " (" + auth::RelativeTime(*e.expiry, now) + ")"
                        : std::string("unknown (the proxy decides)"))
           << "\n  file:     " << s["cacheFile"].get<std::string>() << "\n";
  }
  return exit_status::kOk;
}

}  // namespace

CommandSpec AuthStatusCommand() {
  return CommandSpec{
      "auth status", "Show cached access-proxy sessions and who they belong to",
      "  # Human-readable\n  kproxy auth status\n\n  # As JSON\n  kproxy auth status -o json\n",
      [](CLI::App& app) -> RunFn {
        auto output = std::make_shared<std::string>();
        app.add_option("-o,--output", *output, "Output format: json")
            ->check(CLI::IsMember({"json"}));
        return [output](const GlobalOptions&, CommandIO& io) { return RunStatus(*output, io); };
      }};
}

}  // namespace kproxy::cli
