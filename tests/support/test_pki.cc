#include "tests/support/test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <vector>

namespace kproxy::test {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Free>;
using Cert = std::unique_ptr<X509, Free>;
using Bio = std::unique_ptr<BIO, Free>;

void Check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what + " failed");
}

PKey NewKey() {
  PKey key(EVP_EC_gen("P-256"));
  Check(key != nullptr, "EVP_EC_gen");
  return key;
}

std::string ToPem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string ToPem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

void AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, Free> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  Check(ext != nullptr, "X509V3_EXT_conf_nid");
  Check(X509_add_ext(cert, ext.get(), -1) == 1, "X509_add_ext");
}

struct Subject {
  std::string cn;
  std::string org;
};

// Issues a certificate for `key`; self-signed when issuer is null.
Cert Issue(EVP_PKEY* key, const Subject& subject, X509* issuer, EVP_PKEY* issuer_key, long serial,
           const std::vector<std::pair<int, const char*>>& exts) {
  Cert cert(X509_new());
  Check(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (!subject.org.empty()) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(subject.org.c_str()), -1, -1,
                               0);
  }
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(subject.cn.c_str()), -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  for (const auto& [nid, value] : exts) AddExt(cert.get(), signer, nid, value);
  Check(X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
  return cert;
}

struct Authority {
  PKey key;
  Cert cert;
  PemPair pem;
};

Authority MakeCa(const char* cn, long serial) {
  Authority ca{NewKey(), nullptr, {}};
  ca.cert = Issue(ca.key.get(), {cn, ""}, nullptr, nullptr, serial,
                  {{NID_basic_constraints, "critical,CA:TRUE"},
                   {NID_key_usage, "critical,keyCertSign,cRLSign"},
                   {NID_subject_key_identifier, "hash"}});
  ca.pem = {ToPem(ca.cert.get()), ToPem(ca.key.get())};
  return ca;
}

PemPair MakeLeaf(const Authority& ca, const Subject& subject, long serial, const char* san,
                 bool server) {
  PKey key = NewKey();
  std::vector<std::pair<int, const char*>> exts = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
      {NID_ext_key_usage, server ? "serverAuth" : "clientAuth"},
      {NID_authority_key_identifier, "keyid:always"}};
  if (san) exts.emplace_back(NID_subject_alt_name, san);
  Cert cert = Issue(key.get(), subject, ca.cert.get(), ca.key.get(), serial, exts);
  return {ToPem(cert.get()), ToPem(key.get())};
}

TestPki Generate() {
  TestPki pki;
  Authority ca = MakeCa("kproxy-test-ca", 1);
  Authority other = MakeCa("kproxy-other-ca", 100);
  pki.ca = ca.pem;
  pki.other_ca = other.pem;
  pki.server = MakeLeaf(ca, {"127.0.0.1", ""}, 2, "IP:127.0.0.1,DNS:localhost", true);
  pki.named_server = MakeLeaf(ca, {"api.kproxy.test", ""}, 3, "DNS:api.kproxy.test", true);
  pki.client = MakeLeaf(ca, {"jane", "developers"}, 4, nullptr, false);
  pki.other_client = MakeLeaf(other, {"mallory", ""}, 101, nullptr, false);
  return pki;
}

}  // namespace

const TestPki& TestPki::Get() {
  static const TestPki pki = Generate();
  return pki;
}

}  // namespace kproxy::test
