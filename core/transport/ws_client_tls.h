// The OpenSSL context a WebSocket client hands to libwebsockets 4.1.6
// (provided_client_ssl_ctx), and what it learns during the handshake. Kept apart from
// ws_client.cc because each piece works around a specific lws 4.1.6 behaviour (see
// ARCHITECTURE.md §3): shared client contexts, SNI/verify taken from the Host header, IP SANs
// not verifiable, and handshake failures reported as "connect SSL err 1".
#pragma once

#include <string>

#include "core/base/result.h"
#include "core/transport/tls_context.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace kproxy {

// Creates a client SSL_CTX from `tls` (trust, identity, ALPN "http/1.1" only) whose info
// callback applies ApplyPeerName(tls, url_host) at the start of every handshake and records
// the outcome below. The caller owns the context (SSL_CTX_free).
Result<SSL_CTX*> NewWsClientSslCtx(const TlsSettings& tls, const std::string& url_host);

// What the handshake on a context from NewWsClientSslCtx revealed.
struct WsTlsOutcome {
  std::string verify_error;   // why we rejected the server's certificate ("" = not that)
  bool alpn_refused = false;  // the server sent no_application_protocol (HTTP/2-only)
};
WsTlsOutcome ReadWsTlsOutcome(SSL_CTX* ctx);

}  // namespace kproxy
