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
struct lws;

namespace kproxy {

// The process-wide client SSL_CTX for `tls` (AcquireClientSslCtx, the same one the lookup's
// TlsConnection used), with the info callback that lets WsTlsPeer act on lws's SSLs. ALPN is
// lws's, per SSL. The caller owns the returned reference (SSL_CTX_free).
Result<SSL_CTX*> AcquireWsClientSslCtx(const TlsSettings& tls);

// What the handshake of one connection revealed.
struct WsTlsOutcome {
  std::string verify_error;   // why we rejected the server's certificate ("" = not that)
  bool alpn_refused = false;  // the server sent no_application_protocol (HTTP/2-only)
};

// The per-connection side of the shared context: while it lives, the handshake of the SSL
// lws made for `*wsi` (found through lws_get_ssl; the context is shared, so nothing
// per-connection may live on it) gets ApplyPeerName(tls, url_host) before its ClientHello,
// and its alerts are recorded in outcome(). Loop thread only; `wsi` must outlive this.
class WsTlsPeer {
 public:
  WsTlsPeer(TlsSettings tls, std::string url_host, lws* const* wsi);
  ~WsTlsPeer();
  WsTlsPeer(const WsTlsPeer&) = delete;
  WsTlsPeer& operator=(const WsTlsPeer&) = delete;
  const WsTlsOutcome& outcome() const { return outcome_; }

 private:
  friend struct WsTlsPeerAccess;
  TlsSettings tls_;
  std::string host_;
  lws* const* wsi_;
  WsTlsOutcome outcome_;
};

}  // namespace kproxy
