// The simulator's own PKI and TLS server context: a generated CA and a server certificate for
// 127.0.0.1/localhost (OpenSSL API, EC P-256), and ALPN selection (http/1.1, or h2 only).
#pragma once

#include <openssl/ssl.h>

#include <filesystem>
#include <string>

#include "core/base/result.h"

namespace kproxy::sim {

struct Pki {
  std::string ca_cert_pem;
  std::string server_cert_pem;
  std::string server_key_pem;
};

// Generates a fresh CA and a server certificate signed by it (SAN IP:127.0.0.1, DNS:localhost).
Result<Pki> GeneratePki();
// Writes ca.crt, server.crt and server.key (0600) into `dir`.
Status WritePki(const Pki& pki, const std::filesystem::path& dir);

enum class AlpnMode {
  kHttp11,  // select http/1.1 when offered, otherwise no ALPN (like Go's server)
  kH2Only,  // an HTTP/2-only front end: select h2, refuse a client without it
};

// Builds a server SSL_CTX from the PKI. The caller owns the result (SSL_CTX_free).
Result<SSL_CTX*> MakeServerContext(const Pki& pki, AlpnMode alpn);
// Builds a client SSL_CTX trusting `ca_cert_pem`, offering ALPN http/1.1 only.
Result<SSL_CTX*> MakeClientContext(const std::string& ca_cert_pem);

}  // namespace kproxy::sim
