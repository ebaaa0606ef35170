#include "auth/route_http_client.h"

#include <strings.h>

namespace kproxy::auth {
namespace {

// core/rest's client with every kubeconfig credential removed and authentication off per
// request, so nothing of a kubeconfig user can reach the login endpoint.
class RouteHttpClient : public HttpClient {
 public:
  explicit RouteHttpClient(std::unique_ptr<HttpClient> base) : base_(std::move(base)) {}
  Result<HttpResponse> Do(const HttpRequest& request) override {
    HttpRequest r = request;
    r.authenticate = false;
    return base_->Do(r);
  }

 private:
  std::unique_ptr<HttpClient> base_;
};

}  // namespace

std::unique_ptr<HttpClient> MakeRouteHttpClient(const RestConfig& config) {
  RestConfig c = config;
  c.bearer_token.clear();
  c.token_file.clear();
  c.username.clear();
  c.password.clear();
  c.exec.reset();
  c.auth_provider.reset();
  c.client_cert_data.clear();
  c.client_key_data.clear();
  c.impersonate_user.clear();
  c.impersonate_uid.clear();
  c.impersonate_groups.clear();
  c.impersonate_extra.clear();
  if (c.timeout.count() <= 0) c.timeout = std::chrono::seconds(30);
  return std::make_unique<RouteHttpClient>(MakeCurlHttpClient(c));
}

std::string FindHeader(const HttpResponse& response, std::string_view name) {
  for (const auto& [k, v] : response.headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return "";
}

}  // namespace kproxy::auth
