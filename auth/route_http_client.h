// A small libcurl HttpClient for the access proxy's own endpoints (login, session probe).
// It never adds credentials of its own: the probe sets the one Authorization header under
// test and the login request must carry none. TLS settings (CA data, insecure, proxy) come
// from the RestConfig. Kept separate from core/rest's API client on purpose: nothing from a
// kubeconfig user may leak to the login endpoint.
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
