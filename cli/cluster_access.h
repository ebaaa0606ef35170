// Everything a command needs to talk to the selected cluster: the resolved RestConfig, the
// credential provider (static token, tokenFile, basic, exec plugin, or the access-proxy
// session taken in-process), a REST client that carries that credential and heals a 401
// once, and the headers for upgrade requests. Commands map kubeconfig + flags here, once.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/auth_env.h"
#include "auth/credentials.h"
#include "auth/process_auth.h"
#include "auth/token_cache.h"
#include "cli/command.h"
#include "core/base/result.h"
#include "core/diagnose/refusal.h"
#include "core/kubeconfig/rest_config.h"
#include "core/rest/http_client.h"
#include "core/transport/event_loop.h"
#include "core/transport/tls_connection.h"

namespace kproxy::cli {

class ClusterAccess {
 public:
  // Loads kubeconfig + flags and prepares the credential. `stdin_in_use`: the command itself
  // reads stdin (exec -i), so credential plugins get no interactive prompt. `loop`: the
  // streaming commands pass their event loop, and API requests then go over our own
  // connection on it (core/rest/loop_http_client) instead of libcurl, which those commands
  // then never load; null = libcurl (every other command).
  static Result<std::unique_ptr<ClusterAccess>> Open(const GlobalOptions& globals, CommandIO& io,
                                                     bool stdin_in_use, EventLoop* loop = nullptr);
  ~ClusterAccess();

  const RestConfig& config() const { return config_; }
  // An HttpClient that adds the current credential and retries once after a 401.
  HttpClient& http() { return *authed_; }
  // GET `path` → JSON with kubectl's error text (core/rest/api_client).
  Result<nlohmann::json> GetJson(const std::string& path);

  // Authorization (when any) and Impersonate-* headers for an upgrade request.
  Result<std::vector<std::pair<std::string, std::string>>> UpgradeHeaders();
  // After an upgrade was refused with 401: drop the credential, get a fresh one (interactive
  // login / plugin re-run), return the new headers.
  Result<std::vector<std::pair<std::string, std::string>>> Reauthenticate();
  // A client certificate pair an exec plugin returned (PEM cert, key), if any.
  std::optional<std::pair<std::string, std::string>> PluginClientCertificate();
  // The lookups' idle kept-alive connection when it was dialed to exactly `target` (Open with
  // a loop only), rebound to `callbacks`; null otherwise. For UpgradeTarget::take_idle.
  std::unique_ptr<TlsConnection> TakeIdleConnection(const DialTarget& target,
                                                    TlsConnection::Callbacks callbacks);

  // Names for the 403 diagnostics.
  RefusalContext DiagnoseContext(const std::string& resource) const;

 private:
  ClusterAccess() = default;
  class AuthedClient;

  RestConfig config_;
  auth::AuthEnvironment env_;
  std::optional<auth::TokenCache> cache_;
  std::unique_ptr<HttpClient> route_http_;
  std::unique_ptr<auth::CredentialProvider> provider_;
  std::unique_ptr<HttpClient> base_;
  std::unique_ptr<HttpClient> authed_;
  std::string last_authorization_;
};

// The streaming commands may end the process right after their session (terminal restored,
// output flushed) instead of unwinding the event loop, libwebsockets' context and the kept
// lookup connection — pure exit-time cost. Only the real process allows it (cli/main.cc); in
// tests that run commands in-process, QuickExit() just returns.
void AllowQuickExit();
// Flushes `io` and C stdio and calls _exit(status) when allowed; otherwise returns.
void QuickExit(CommandIO& io, int status);

}  // namespace kproxy::cli
