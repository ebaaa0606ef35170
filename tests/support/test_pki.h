// Test-only PKI generated in memory with the OpenSSL API (no shell-out): a CA, a server
// certificate for 127.0.0.1/localhost, a client certificate, and an unrelated second CA.
#pragma once

#include <string>

namespace kproxy::test {

struct PemPair {
  std::string cert;  // PEM certificate
  std::string key;   // PEM private key (PKCS#8)
};

struct TestPki {
  PemPair ca;            // "kproxy-test-ca"
  PemPair server;        // signed by ca; SAN IP:127.0.0.1, DNS:localhost
  PemPair named_server;  // signed by ca; SAN DNS:api.kproxy.test only (tls-server-name tests)
  PemPair client;        // signed by ca; CN=jane, O=developers (client-auth EKU)
  PemPair other_ca;      // "kproxy-other-ca": trusts nothing above (wrong-CA tests)
  PemPair other_client;  // signed by other_ca; CN=mallory

  // Generates everything (P-256 keys, valid from an hour ago for a day). Throws
  // std::runtime_error if OpenSSL fails. Cached: every call returns the same PKI.
  static const TestPki& Get();
};

}  // namespace kproxy::test
