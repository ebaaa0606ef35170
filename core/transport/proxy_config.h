// Which HTTP proxy (if any) a connection to the API server goes through: the kubeconfig's
// proxy-url, else HTTPS_PROXY/HTTP_PROXY with NO_PROXY, following Go's
// golang.org/x/net/http/httpproxy rules (what client-go and so kubectl use).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/base/result.h"

namespace kproxy {

// A parsed http(s)://host[:port][/path...] server address.
struct Endpoint {
  std::string scheme;  // "https" or "http"
  std::string host;    // IPv6 without brackets
  uint16_t port = 0;
  std::string path;               // "" or starting with '/' (kept for upgrade request paths)
  std::string Authority() const;  // host:port, IPv6 bracketed
};

// Parses an API server URL; default ports 443/80. Rejects other schemes.
Result<Endpoint> ParseServerUrl(const std::string& url);

struct ProxyChoice {
  std::string host;
  uint16_t port = 0;
  std::string authorization;  // "Basic ..." from user:pass in the proxy URL, or ""
  std::string userinfo;       // the decoded "user:pass" itself (secret), for libwebsockets
};

using GetEnvFn = std::function<const char*(const char*)>;

// Chooses the proxy for `target`. `proxy_url` (kubeconfig proxy-url) wins and applies to every
// host, as http.ProxyURL does. Otherwise the environment: HTTPS_PROXY/https_proxy for https,
// HTTP_PROXY/http_proxy for http; NO_PROXY/no_proxy exempts hosts; localhost and loopback
// addresses never use an environment proxy. Only http:// proxies (CONNECT) are supported;
// https:// and socks5:// proxies are a clear kConfig error. nullopt = direct.
Result<std::optional<ProxyChoice>> ChooseProxy(const std::string& proxy_url, const Endpoint& target,
                                               const GetEnvFn& getenv);

// True when NO_PROXY-style `no_proxy` exempts host:port (exposed for tests).
bool NoProxyMatches(const std::string& no_proxy, const std::string& host, uint16_t port);

}  // namespace kproxy
