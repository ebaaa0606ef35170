// The credential provider every REST and upgrade request uses (auth.md §1, §2, §4): from a
// RestConfig it yields the Authorization header — static token, tokenFile (re-read every
// minute), basic, an exec plugin, or the access-proxy session when the user's exec plugin is
// `kproxy credential` (taken in-process, no child process) — and WithSessionRetry heals a 401.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <istream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "auth/access_proxy_session.h"
#include "auth/auth_env.h"
#include "auth/browser_opener.h"
#include "auth/exec_plugin.h"
#include "auth/token_cache.h"
#include "core/base/result.h"
#include "core/kubeconfig/rest_config.h"
#include "core/rest/http_client.h"

namespace kproxy::auth {

enum class CredentialSource { kNone, kStaticToken, kTokenFile, kBasic, kExecPlugin, kAccessProxy };

struct CredentialDeps {
  AuthEnvironment* env = nullptr;
  TokenCache* cache = nullptr;       // access-proxy path
  HttpClient* route_http = nullptr;  // access-proxy login and probe (never adds credentials)
  BrowserOpener open_browser;
  std::istream* stdin_stream = nullptr;
  const std::atomic<bool>* cancel = nullptr;
  bool stdin_in_use = false;  // kproxy itself reads stdin (exec -i): plugins get no prompt
};

// The parsed arguments of `kproxy credential ...` (also used to recognise the in-process path).
struct CredentialCommandArgs {
  std::string server;
  std::string service_account_file;
  std::string browser_cmd;
  bool no_browser = false;
  std::chrono::milliseconds login_timeout{std::chrono::minutes(5)};
};

// Parses "5m", "30s", "1500ms", "1h", "90" (seconds); kUsage otherwise.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);
// Consumes an exec stanza; returns its arguments when it runs `kproxy credential`.
std::optional<CredentialCommandArgs> AsKproxyCredentialPlugin(const ExecPluginConfig& exec);

class CredentialProvider {
 public:
  CredentialProvider(const RestConfig& config, CredentialDeps deps);

  CredentialSource source() const { return source_; }

  // "Bearer …" / "Basic …" / "" (client certificate or no credentials). May run a plugin or
  // a login (interactive only); kLoginRequired when one is needed but not allowed.
  Result<std::string> AuthorizationHeader();
  // A client certificate and key returned by an exec plugin, if any (PEM).
  std::optional<std::pair<std::string, std::string>> PluginClientCertificate();

  // After the server refused `authorization` (401): drops it (in-process and, for the
  // access proxy, marks it rejected in the cache). Returns true when a fresh credential may
  // be obtained by calling AuthorizationHeader() again.
  bool OnRejected(const std::string& authorization);

 private:
  RestConfig config_;
  CredentialDeps deps_;
  CredentialSource source_ = CredentialSource::kNone;
  std::mutex mu_;
  // tokenFile
  std::string file_token_;
  std::chrono::steady_clock::time_point file_read_at_{};
  // exec plugin
  std::unique_ptr<ExecCredentialCache> exec_cache_;
  std::optional<ExecCredentialStatus> last_exec_;
  // access proxy
  std::optional<CredentialCommandArgs> proxy_args_;
  bool proxy_interactive_ = false;
  std::string session_jwt_;
};

// Is `response` the access proxy (or API server) refusing the credential: a 401, or a
// redirect towards a sign-in page (another host, or a /.pomerium/ path)?
bool IsSessionRejection(const HttpResponse& response, std::string_view route);

// Sends `request_fn(authorization)`; on a session rejection drops the credential, obtains a
// new one once (interactive login, plugin re-run, token file re-read) and retries once.
// Non-interactive access-proxy sessions fail with kLoginRequired naming the login command.
Result<HttpResponse> WithSessionRetry(
    CredentialProvider& provider,
    const std::function<Result<HttpResponse>(const std::string& authorization)>& request_fn);

}  // namespace kproxy::auth
