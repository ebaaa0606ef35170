// OpenSSL client configuration shared by every TLS client of the process: our own
// TlsConnection (SPDY, refusal capture) and libwebsockets' client SSL_CTX (configured through
// lws's OpenSSL callbacks), so both layers trust, present and verify exactly the same things.
#pragma once

#include <string>
#include <vector>

#include "core/base/result.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace kproxy {

// TLS material for one server, from a RestConfig.
struct TlsSettings {
  std::string ca_pem;           // "" = system roots
  std::string ca_source;        // file name for messages, or ""
  bool insecure = false;        // insecure-skip-tls-verify
  std::string server_name;      // tls-server-name: SNI and the name verified; "" = URL host
  std::string client_cert_pem;  // "" = none
  std::string client_key_pem;   // secret
  std::vector<std::string> alpn = {"http/1.1"};  // upgrades must not negotiate h2
};

// Configures `ctx`: TLS >= 1.2, trust (CA PEM data only, or the system roots), client
// certificate chain + key, peer verification on unless insecure. kConfig errors on bad PEM.
Status ConfigureClientTlsContext(SSL_CTX* ctx, const TlsSettings& settings);

// A client SSL_CTX configured by ConfigureClientTlsContext, shared by every connection of the
// process with the same trust and identity (CA, insecure, client certificate and key): the
// lookup's TlsConnection and the WebSocket vhost then pay OpenSSL 3's per-context setup and
// the PEM parses once. Everything else (ALPN, modes, SNI, verified name) must be set per SSL.
// Returns a new reference the caller releases with SSL_CTX_free; kConfig errors on bad PEM.
Result<SSL_CTX*> AcquireClientSslCtx(const TlsSettings& settings);

// TLS session resumption between the connections of one process (the pod lookup, then the
// WebSocket upgrade to the same server): contexts from AcquireClientSslCtx keep the last
// session each server issued, keyed by the name verified (ApplyPeerName) and the peer's
// address, so a session is only offered where the same name was verified. Call after
// ApplyPeerName and before the handshake; no-op when insecure or nothing is kept.
void OfferCachedSession(SSL* ssl);

// Per connection, before the handshake: SNI (DNS names only, RFC 6066 §3) and the name the
// certificate must match — tls-server-name when set, else `url_host` (IP literals are
// matched against IP SANs). Insecure mode turns verification off for this SSL.
void ApplyPeerName(SSL* ssl, const TlsSettings& settings, const std::string& url_host);

// "h2" etc. as ALPN wire bytes (length-prefixed).
std::string AlpnWire(const std::vector<std::string>& protocols);

// Drains OpenSSL's error queue into one line.
std::string OpenSslErrorLine();

bool IsIpLiteral(const std::string& host);

}  // namespace kproxy
