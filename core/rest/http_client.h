// Plain (non-upgrade) HTTP requests to an API server or access proxy, on libcurl.
// Applies every TLS/auth/proxy setting of a RestConfig; never follows redirects.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/result.h"
#include "core/kubeconfig/rest_config.h"

namespace kproxy {

struct HttpRequest {
  std::string method = "GET";
  std::string path;  // "/api/v1/pods?x=y" (joined to RestConfig::server) or an absolute URL
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool authenticate = true;  // false: send no credentials (e.g. access-proxy login endpoint)
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names as received
  std::string body;
  // First header value by case-insensitive name, "" when absent.
  std::string Header(std::string_view name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // A transport failure (DNS, TCP, TLS, timeout) is an Error; any HTTP status is a response.
  virtual Result<HttpResponse> Do(const HttpRequest& request) = 0;
};

// Injected side effects of the libcurl client (tests fake them).
struct HttpClientOptions {
  // Clock for the tokenFile re-read interval; null = std::chrono::steady_clock::now.
  std::function<std::chrono::steady_clock::time_point()> now;
};

// The libcurl implementation. Consumes the whole RestConfig (TLS, auth, impersonation,
// proxy-url else HTTPS_PROXY/NO_PROXY, timeout); one connection cache per client; Do() is
// thread-safe (serialised). Transport failures come back as one-line errors: kUnavailable
// (DNS/TCP/TLS/proxy), kTimeout, kConfig (unreadable tokenFile); secrets never appear in them.
std::unique_ptr<HttpClient> MakeCurlHttpClient(const RestConfig& config,
                                               HttpClientOptions options = {});

}  // namespace kproxy
