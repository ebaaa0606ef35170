#include "cli/cluster_access.h"

#include <unistd.h>

#include <cstdio>

#include "auth/jwt_claims.h"
#include "auth/route_http_client.h"
#include "core/base/log.h"
#include "core/kubeconfig/loader.h"
#include "core/rest/api_client.h"
#include "core/rest/loop_http_client.h"
#include "core/rest/request_headers.h"

namespace kproxy::cli {

// Adds the provider's Authorization to each request and heals a 401 once.
class ClusterAccess::AuthedClient : public HttpClient {
 public:
  AuthedClient(HttpClient& base, auth::CredentialProvider& provider, std::string* last)
      : base_(base), provider_(provider), last_(last) {}
  Result<HttpResponse> Do(const HttpRequest& request) override {
    return auth::WithSessionRetry(provider_, [&](const std::string& authorization) {
      HttpRequest r = request;
      if (!authorization.empty()) r.headers.emplace_back("Authorization", authorization);
      *last_ = authorization;
      auto response = base_.Do(r);
      // Kept for the 403 diagnostics: who refused (RBAC or the access proxy's policy).
      if (response.ok() && response->status == 403) last_forbidden_ = *response;
      return response;
    });
  }
  std::optional<HttpResponse> last_forbidden_;

 private:
  HttpClient& base_;
  auth::CredentialProvider& provider_;
  std::string* last_;
};

ClusterAccess::~ClusterAccess() = default;

Result<std::unique_ptr<ClusterAccess>> ClusterAccess::Open(const GlobalOptions& globals,
                                                           CommandIO& io, bool stdin_in_use,
                                                           EventLoop* loop) {
  auto config = LoadRestConfig(globals.overrides, KubeconfigEnvironment::Process());
  if (!config.ok()) return config.error();
  std::unique_ptr<ClusterAccess> a(new ClusterAccess());
  a->config_ = std::move(*config);
  a->env_ = auth::AuthEnvironment::Process();
  auto cache = auth::ProcessTokenCache(a->env_);
  if (cache.ok()) a->cache_.emplace(std::move(*cache));
  a->route_http_ = auth::MakeRouteHttpClient(a->config_);

  auth::CredentialDeps deps;
  deps.env = &a->env_;
  deps.cache = a->cache_ ? &*a->cache_ : nullptr;
  deps.route_http = a->route_http_.get();
  deps.open_browser = auth::MakeProcessBrowserOpener("", a->env_.getenv);
  deps.stdin_stream = &io.in;
  deps.stdin_in_use = stdin_in_use;
  a->provider_ = std::make_unique<auth::CredentialProvider>(a->config_, deps);

  // The provider owns every credential; the HTTP client keeps TLS, proxy and impersonation.
  RestConfig base = a->config_;
  base.bearer_token.clear();
  base.token_file.clear();
  base.username.clear();
  base.password.clear();
  base.exec.reset();
  if (auto cert = a->provider_->PluginClientCertificate()) {
    base.client_cert_data = cert->first;
    base.client_key_data = cert->second;
  }
  a->base_ = loop ? MakeLoopHttpClient(*loop, base) : MakeCurlHttpClient(base);
  a->authed_ = std::make_unique<AuthedClient>(*a->base_, *a->provider_, &a->last_authorization_);
  return a;
}

Result<nlohmann::json> ClusterAccess::GetJson(const std::string& path) {
  auto* authed = static_cast<AuthedClient*>(authed_.get());
  authed->last_forbidden_.reset();
  ApiClient api(*authed_);
  auto result = api.GetJson(path, RequestContext{"get", "", ""});
  // A 403 on a plain read (e.g. the pod lookup before exec) gets the same classification as a
  // refused upgrade, so an access-proxy policy denial is named as such, not a bare "Forbidden".
  if (!result.ok() && result.error().code == ErrorCode::kForbidden && authed->last_forbidden_) {
    const HttpResponse& r = *authed->last_forbidden_;
    RefusedResponse refused{r.status, r.headers, r.body.substr(0, 64 * 1024), false,
                            Transport::kRest};
    Diagnosis d = ClassifyRefusal(refused, DiagnoseContext("pods"));
    Error e = result.error();
    for (const std::string& line : d.explanation) e.message += "\nkproxy: " + line;
    return e;
  }
  return result;
}

Result<std::vector<std::pair<std::string, std::string>>> ClusterAccess::UpgradeHeaders() {
  std::vector<std::pair<std::string, std::string>> headers;
  auto authorization = provider_->AuthorizationHeader();
  if (!authorization.ok()) return authorization.error();
  last_authorization_ = *authorization;
  if (!authorization->empty()) {
    RegisterSecret(*authorization);
    headers.emplace_back("Authorization", *authorization);
  }
  for (auto& h : ImpersonationHeaders(config_)) headers.push_back(std::move(h));
  return headers;
}

Result<std::vector<std::pair<std::string, std::string>>> ClusterAccess::Reauthenticate() {
  if (!provider_->OnRejected(last_authorization_))
    return MakeError(ErrorCode::kUnauthenticated,
                     "the server rejected the credential and it cannot be renewed");
  return UpgradeHeaders();
}

std::optional<std::pair<std::string, std::string>> ClusterAccess::PluginClientCertificate() {
  return provider_->PluginClientCertificate();
}

std::unique_ptr<TlsConnection> ClusterAccess::TakeIdleConnection(
    const DialTarget& target, TlsConnection::Callbacks callbacks) {
  return kproxy::TakeIdleConnection(*base_, target, std::move(callbacks));
}

RefusalContext ClusterAccess::DiagnoseContext(const std::string& resource) const {
  RefusalContext c;
  c.route = config_.server;
  c.resource = resource;
  c.namespace_ = config_.namespace_;
  // The identity the server saw: an impersonated user; else who the session token names (an
  // access proxy judges the session, not the kubeconfig user entry); else the kubeconfig user.
  c.identity = config_.impersonate_user;
  if (c.identity.empty()) c.identity = auth::IdentityFromAuthorization(last_authorization_);
  if (c.identity.empty()) c.identity = config_.user_name;
  if (provider_ && provider_->source() == auth::CredentialSource::kAccessProxy)
    c.login_command = "kproxy login --server " + config_.server;
  else if (!config_.context_name.empty())
    c.login_command = "kproxy login --context " + config_.context_name;
  return c;
}

namespace {
bool g_quick_exit_allowed = false;
}  // namespace

void AllowQuickExit() { g_quick_exit_allowed = true; }

void QuickExit(CommandIO& io, int status) {
  if (!g_quick_exit_allowed) return;
  io.out.flush();
  io.err.flush();
  std::fflush(nullptr);
  _exit(status);
}

}  // namespace kproxy::cli
