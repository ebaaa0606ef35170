#include "tests/sim/server/tls_context.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>

namespace kproxy::sim {

namespace {

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter>;
using CertPtr = std::unique_ptr<X509, Deleter>;
using BioPtr = std::unique_ptr<BIO, Deleter>;

Error SslError(const std::string& what) {
  unsigned long e = ERR_get_error();
  char buf[256] = "";
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  return MakeError(ErrorCode::kInternal, what + ": " + buf);
}

KeyPtr NewKey() { return KeyPtr(EVP_EC_gen("P-256")); }

bool AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

CertPtr NewCert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, bool ca) {
  CertPtr cert(X509_new());
  if (!cert) return nullptr;
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  // Back-dated an hour so clocks a little apart still accept it.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("kproxy-sim"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  bool ok = true;
  if (ca) {
    ok = ok && AddExt(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    ok = ok && AddExt(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    ok = ok && AddExt(cert.get(), signer, NID_subject_key_identifier, "hash");
  } else {
    ok = ok && AddExt(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    ok = ok && AddExt(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
    ok = ok && AddExt(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    ok = ok && AddExt(cert.get(), signer, NID_subject_alt_name,
                      "IP:127.0.0.1,DNS:localhost,IP:0:0:0:0:0:0:0:1");
    ok = ok && AddExt(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  }
  if (!ok) return nullptr;
  if (X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) <= 0) return nullptr;
  return cert;
}

std::string CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n);
}

std::string KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n);
}

int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void* arg) {
  const auto mode = static_cast<AlpnMode>(reinterpret_cast<intptr_t>(arg));
  const char* want = mode == AlpnMode::kH2Only ? "h2" : "http/1.1";
  size_t want_len = std::char_traits<char>::length(want);
  for (unsigned int i = 0; i < inlen;) {
    unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == want_len && std::char_traits<char>::compare(
                               reinterpret_cast<const char*>(in + i + 1), want, len) == 0) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  // Go's TLS server (the real front ends) answers no_application_protocol when an h2-only
  // listener meets a client without h2; an http/1.1 listener just proceeds without ALPN.
  return mode == AlpnMode::kH2Only ? SSL_TLSEXT_ERR_ALERT_FATAL : SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

Result<Pki> GeneratePki() {
  KeyPtr ca_key = NewKey();
  KeyPtr server_key = NewKey();
  if (!ca_key || !server_key) return SslError("generating keys");
  CertPtr ca = NewCert(ca_key.get(), "kproxy-sim CA", nullptr, nullptr, true);
  if (!ca) return SslError("creating CA certificate");
  CertPtr server = NewCert(server_key.get(), "kproxy-sim", ca.get(), ca_key.get(), false);
  if (!server) return SslError("creating server certificate");
  return Pki{CertPem(ca.get()), CertPem(server.get()), KeyPem(server_key.get())};
}

Status WritePki(const Pki& pki, const std::filesystem::path& dir) {
  auto write = [&](const char* name, const std::string& text, bool secret) -> bool {
    std::filesystem::path p = dir / name;
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    if (secret) chmod(p.c_str(), 0600);
    out << text;
    return static_cast<bool>(out);
  };
  if (!write("ca.crt", pki.ca_cert_pem, false) ||
      !write("server.crt", pki.server_cert_pem, false) ||
      !write("server.key", pki.server_key_pem, true)) {
    return MakeError(ErrorCode::kConfig, "cannot write certificates into " + dir.string());
  }
  return Status::Ok();
}

Result<SSL_CTX*> MakeServerContext(const Pki& pki, AlpnMode alpn) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return SslError("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  BioPtr cert_bio(BIO_new_mem_buf(pki.server_cert_pem.data(), pki.server_cert_pem.size()));
  BioPtr key_bio(BIO_new_mem_buf(pki.server_key_pem.data(), pki.server_key_pem.size()));
  CertPtr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!cert || !key || SSL_CTX_use_certificate(ctx, cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) {
    SSL_CTX_free(ctx);
    return SslError("loading server certificate");
  }
  SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, reinterpret_cast<void*>(static_cast<intptr_t>(alpn)));
  return ctx;
}

Result<SSL_CTX*> MakeClientContext(const std::string& ca_cert_pem) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return SslError("SSL_CTX_new");
  BioPtr bio(BIO_new_mem_buf(ca_cert_pem.data(), ca_cert_pem.size()));
  CertPtr ca(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!ca || X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca.get()) != 1) {
    SSL_CTX_free(ctx);
    return SslError("loading CA certificate");
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  static const unsigned char kAlpn[] = "\x08http/1.1";
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn - 1);
  return ctx;
}

}  // namespace kproxy::sim
