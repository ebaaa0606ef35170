// `kproxy credential`: kproxy as a client-go credential plugin (auth.md §3). stdout carries
// exactly one ExecCredential JSON object and a newline, nothing else, ever; every prompt, URL
// and diagnostic goes to stderr; every failure is one stderr line and a non-zero exit.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <ostream>

#include "auth/access_proxy_login.h"
#include "auth/access_proxy_session.h"
#include "auth/credentials.h"
#include "auth/exec_credential.h"
#include "auth/process_auth.h"
#include "auth/route_http_client.h"
#include "cli/commands.h"
#include "core/base/exit_code.h"
#include "core/base/log.h"

namespace kproxy::cli {
namespace {

struct CredentialOptions {
  std::string service_account_file;
  std::string browser_cmd;
  bool no_browser = false;
  std::string login_timeout = "5m";
};

int Fail(CommandIO& io, const Error& e) {
  std::string msg = Redact(e.message);
  for (char& c : msg) {
    if (c == '\n') c = ' ';  // one line, always
  }
  io.err << "error: " << msg << "\n";
  return ExitStatusFor(e.code);
}

int RunCredential(const CredentialOptions& o, const GlobalOptions& g, CommandIO& io) {
  auth::AuthEnvironment env = auth::AuthEnvironment::Process();
  if (!g.overrides.server || g.overrides.server->empty()) {
    return Fail(io, MakeError(ErrorCode::kUsage, "kproxy credential needs --server <route URL>"));
  }
  auto exec_info_text = env.getenv("KUBERNETES_EXEC_INFO");
  auto info = auth::ParseExecInfo(exec_info_text.value_or(""));
  if (!info) return Fail(io, info.error());
  auto timeout = auth::ParseDuration(o.login_timeout);
  if (!timeout) return Fail(io, timeout.error());
  auto cache = auth::ProcessTokenCache(env);
  if (!cache) return Fail(io, cache.error());

  auth::SessionOptions so;
  so.route = *g.overrides.server;
  so.service_account_file = o.service_account_file;
  if (so.service_account_file.empty()) {
    so.service_account_file = env.getenv("KPROXY_SERVICE_ACCOUNT_FILE").value_or("");
  }
  so.browser_cmd = o.browser_cmd;
  so.no_browser = o.no_browser;
  so.login_timeout = *timeout;
  so.interactive = auth::IsInteractive(
      env, exec_info_text ? std::optional<bool>(info->interactive) : std::nullopt);
  so.respect_cooldown = true;
  so.caller = "pid:" + std::to_string(::getppid());  // kubectl, re-running us after a 401

  RestConfig route_config;
  route_config.server = so.route;
  if (info->cluster) {
    // kubectl told us how to reach the cluster (provideClusterInfo): trust the same CA.
    route_config.ca_data = info->cluster->certificate_authority_data;
    route_config.insecure_skip_tls_verify = info->cluster->insecure_skip_tls_verify;
    route_config.proxy_url = info->cluster->proxy_url;
  }
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
  if (!session) return Fail(io, session.error());

  auth::ExecCredentialStatus status;
  // kubectl sends "Authorization: Bearer <token>": the proxy expects "Bearer Pomerium-<JWT>".
  status.token = "Pomerium-" + session->jwt;
  RegisterSecret(status.token);
  if (session->expiry) {
    auto exp = std::chrono::system_clock::from_time_t(static_cast<std::time_t>(*session->expiry)) -
               auth::kExpirySafetyMargin;
    status.expiration = exp;
  }
  io.out << auth::EncodeExecCredential(info->api_version, status) << "\n";
  io.out.flush();
  return exit_status::kOk;
}

}  // namespace

CommandSpec CredentialCommand() {
  return CommandSpec{
      "credential", "Print an ExecCredential for kubectl (client-go credential plugin)",
      "  # In a kubeconfig user (see 'kproxy kubeconfig set-credentials'):\n"
      "  kproxy credential --server https://k8s.example.com\n\n"
      "  # In CI, with a service-account JWT\n"
      "  kproxy credential --server https://k8s.example.com --service-account-file token.jwt\n",
      [](CLI::App& app) -> RunFn {
        auto o = std::make_shared<CredentialOptions>();
        app.add_option("--service-account-file", o->service_account_file,
                       "Use this service-account JWT as-is ('-' = stdin); never a browser");
        app.add_option("--browser-cmd", o->browser_cmd, "Command that opens the sign-in URL");
        app.add_flag("--no-browser", o->no_browser, "Only print the sign-in URL");
        app.add_option("--login-timeout", o->login_timeout, "How long to wait for sign-in (5m)");
        return [o](const GlobalOptions& g, CommandIO& io) { return RunCredential(*o, g, io); };
      }};
}

}  // namespace kproxy::cli
