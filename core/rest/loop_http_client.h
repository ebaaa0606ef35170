// Plain HTTP/1.1 requests on the process's event loop, over our own TlsConnection and the
// HTTP/1.1 response codec the upgrades already use (core/transport/http_response_parser).
// This is the client of the streaming commands' lookups (exec/attach/port-forward: the pod GET,
// TYPE/NAME resolution, the service GET), so those commands never load libcurl; every other
// command keeps the libcurl client (core/transport/ARCHITECTURE.md, "Why two HTTP clients").
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "core/kubeconfig/rest_config.h"
#include "core/rest/http_client.h"
#include "core/transport/event_loop.h"
#include "core/transport/proxy_config.h"
#include "core/transport/tls_connection.h"

namespace kproxy {

struct LoopHttpClientOptions {
  // Environment for HTTPS_PROXY/NO_PROXY; null = the process environment.
  GetEnvFn getenv;
  // Clock for the tokenFile re-read interval; null = steady_clock::now.
  std::function<std::chrono::steady_clock::time_point()> now;
};

// Consumes the whole RestConfig like MakeCurlHttpClient: server (with a path prefix), TLS
// material / insecure / tls-server-name, bearer token, tokenFile, basic auth, impersonation,
// proxy-url else HTTPS_PROXY/NO_PROXY (http:// CONNECT proxies), timeout (whole request).
// Keeps one connection alive and reuses it for the next request to the same origin (a request
// on a reused connection that the server closed before answering is sent once more on a fresh
// one). Do() runs `loop` until the response is complete, so it must not be called from inside
// a loop callback. Returns status, headers (as received) and body (≤ 64 MiB; GET/POST/PUT/
// PATCH/DELETE). Transport failures are one-line errors naming the server: kUnavailable (DNS,
// TCP, proxy, TLS, connection lost, an HTTP/2-only front end), kTimeout, kConfig (bad TLS
// material, unreadable tokenFile, bad URL); secrets never appear in them.
std::unique_ptr<HttpClient> MakeLoopHttpClient(EventLoop& loop, const RestConfig& config,
                                               LoopHttpClientOptions options = {});

// Hands `client`'s idle kept-alive connection over so an upgrade can go out on it instead of a
// second TCP+TLS handshake (the SPDY dialer, UpgradeTarget::take_idle). Consumes a client made
// by MakeLoopHttpClient (any other client has none), the dial target the caller would dial and
// the callbacks the connection must call from now on (on_connected is not called again: it is
// open). Returns the connection when one is idle, not known closed, and was dialed to the same
// server (scheme, host, port), proxy and TLS settings with ALPN http/1.1 only; else null, and
// the client keeps its connection. The server may still have closed it unseen: the new owner
// must redial once when it ends before any response byte.
std::unique_ptr<TlsConnection> TakeIdleConnection(HttpClient& client, const DialTarget& target,
                                                  TlsConnection::Callbacks callbacks);

}  // namespace kproxy
