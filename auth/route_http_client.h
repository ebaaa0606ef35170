// The HttpClient for the access proxy's own endpoints (login, session probe): core/rest's
// libcurl client (so libcurl is loaded on first use, core/rest/curl_library.h) built from the
// RestConfig with every credential, client certificate and impersonation setting removed, and
// authentication off for each request. The probe sets the one Authorization header under test
// and the login request carries none: nothing from a kubeconfig user may leak to the login
// endpoint. TLS settings (CA data, insecure, tls-server-name, proxy) come from the RestConfig.
#pragma once

#include <memory>

#include "core/kubeconfig/rest_config.h"
#include "core/rest/http_client.h"

namespace kproxy::auth {

// Requests use absolute URLs (or paths joined to config.server); redirects are not followed;
// each request is bounded (30 s, or config.timeout when set).
std::unique_ptr<HttpClient> MakeRouteHttpClient(const RestConfig& config);

// First value of a header by case-insensitive name, "" when absent.
std::string FindHeader(const HttpResponse& response, std::string_view name);

}  // namespace kproxy::auth
