#include "core/transport/ws_client_tls.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace kproxy {
namespace {

// Stored on the SSL_CTX (ex data), freed with it.
struct PeerState {
  TlsSettings tls;
  std::string host;
  WsTlsOutcome outcome;
};

void FreePeerState(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<PeerState*>(ptr);
}

int PeerStateIndex() {
  static const int idx = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, FreePeerState);
  return idx;
}

// Runs inside SSL_connect, after lws configured the SSL (SNI and verified host from the Host
// header) and before the ClientHello is built, so tls-server-name and IP-literal handling
// here is the one that counts — the same ApplyPeerName our own TLS connection uses.
void InfoCallback(const SSL* ssl, int where, int ret) {
  auto* peer = static_cast<PeerState*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), PeerStateIndex()));
  if (!peer) return;
  if ((where & SSL_CB_HANDSHAKE_START) && !SSL_is_init_finished(ssl))
    ApplyPeerName(const_cast<SSL*>(ssl), peer->tls, peer->host);
  if ((where & SSL_CB_ALERT) && (where & SSL_CB_WRITE)) {
    long v = SSL_get_verify_result(ssl);
    if (v != X509_V_OK) peer->outcome.verify_error = X509_verify_cert_error_string(v);
  }
  // RFC 7301 §3.2: an HTTP/2-only server refuses our lone "http/1.1" with this alert.
  if ((where & SSL_CB_ALERT) && (where & SSL_CB_READ) &&
      (ret & 0xff) == SSL_AD_NO_APPLICATION_PROTOCOL)
    peer->outcome.alpn_refused = true;
}

}  // namespace

Result<SSL_CTX*> NewWsClientSslCtx(const TlsSettings& tls, const std::string& url_host) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return MakeError(ErrorCode::kInternal, "cannot create a TLS context");
  Status st = ConfigureClientTlsContext(ctx, tls);
  if (!st.ok()) {
    SSL_CTX_free(ctx);
    return st.error();
  }
  std::string wire = AlpnWire({"http/1.1"});
  SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                          static_cast<unsigned>(wire.size()));
  SSL_CTX_set_ex_data(ctx, PeerStateIndex(), new PeerState{tls, url_host, {}});
  SSL_CTX_set_info_callback(ctx, InfoCallback);
  return ctx;
}

WsTlsOutcome ReadWsTlsOutcome(SSL_CTX* ctx) {
  if (!ctx) return {};
  auto* peer = static_cast<PeerState*>(SSL_CTX_get_ex_data(ctx, PeerStateIndex()));
  return peer ? peer->outcome : WsTlsOutcome{};
}

}  // namespace kproxy
