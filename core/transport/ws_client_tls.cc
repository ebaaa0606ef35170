#include "core/transport/ws_client_tls.h"

#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace kproxy {

// The live peers. lws creates the SSL inside its connect path and runs SSL_connect at once,
// so there is no moment to tag the SSL itself; the info callback finds its peer by comparing
// lws_get_ssl() of each live connection instead (a handful at most).
struct WsTlsPeerAccess {
  static std::vector<WsTlsPeer*>& Live() {
    static auto* live = new std::vector<WsTlsPeer*>;  // never destroyed (static-exit order)
    return *live;
  }
  static WsTlsPeer* Find(const SSL* ssl) {
    for (WsTlsPeer* p : Live())
      if (*p->wsi_ && lws_get_ssl(*p->wsi_) == ssl) return p;
    return nullptr;
  }
  // Runs inside SSL_connect, after lws configured the SSL (SNI and verified host from the
  // Host header) and before the ClientHello is built, so tls-server-name and IP-literal
  // handling here is the one that counts — the same ApplyPeerName our own TLS connection
  // uses. SSLs of other users of the shared context (TlsConnection) match no peer.
  static void InfoCallback(const SSL* ssl, int where, int ret) {
    if (!(where & (SSL_CB_HANDSHAKE_START | SSL_CB_ALERT))) return;
    WsTlsPeer* peer = Find(ssl);
    if (!peer) return;
    if ((where & SSL_CB_HANDSHAKE_START) && !SSL_is_init_finished(ssl)) {
      ApplyPeerName(const_cast<SSL*>(ssl), peer->tls_, peer->host_);
      // The pod lookup just verified this server on this context: resume its session.
      OfferCachedSession(const_cast<SSL*>(ssl));
    }
    if ((where & SSL_CB_ALERT) && (where & SSL_CB_WRITE)) {
      long v = SSL_get_verify_result(ssl);
      if (v != X509_V_OK) peer->outcome_.verify_error = X509_verify_cert_error_string(v);
    }
    // RFC 7301 §3.2: an HTTP/2-only server refuses our lone "http/1.1" with this alert.
    if ((where & SSL_CB_ALERT) && (where & SSL_CB_READ) &&
        (ret & 0xff) == SSL_AD_NO_APPLICATION_PROTOCOL)
      peer->outcome_.alpn_refused = true;
  }
};

WsTlsPeer::WsTlsPeer(TlsSettings tls, std::string url_host, lws* const* wsi)
    : tls_(std::move(tls)), host_(std::move(url_host)), wsi_(wsi) {
  WsTlsPeerAccess::Live().push_back(this);
}

WsTlsPeer::~WsTlsPeer() {
  auto& live = WsTlsPeerAccess::Live();
  live.erase(std::remove(live.begin(), live.end(), this), live.end());
}

Result<SSL_CTX*> AcquireWsClientSslCtx(const TlsSettings& tls) {
  auto ctx = AcquireClientSslCtx(tls);
  if (!ctx.ok()) return ctx;
  SSL_CTX_set_info_callback(*ctx, WsTlsPeerAccess::InfoCallback);  // idempotent
  return ctx;
}

}  // namespace kproxy
