// One client SSL_CTX per TLS material for the whole process (AcquireClientSslCtx): the same
// material gives the same context, different material never does, bad PEM is not cached.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/transport/tls_context.h"
#include "tests/unit/transport_test_support.h"

namespace kproxy {
namespace {

int StoreSize(SSL_CTX* ctx) {
  STACK_OF(X509_OBJECT)* objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
  return objs ? sk_X509_OBJECT_num(objs) : -1;
}

TEST_CASE("shared TLS context: one per material, fresh for other material, errors not cached") {
  const auto& pki = test::Pki();
  REQUIRE(pki.ok);
  TlsSettings a;
  a.ca_pem = pki.ca_pem;
  a.alpn = {"h2", "http/1.1"};
  TlsSettings a2 = a;
  a2.alpn = {"http/1.1"};         // per SSL, not part of the context
  a2.server_name = "other.name";  // per SSL too
  a2.ca_source = "/some/file";    // only names the file in errors
  TlsSettings b;
  b.ca_pem = pki.other_ca_pem;
  TlsSettings c = a;
  c.client_cert_pem = pki.client_cert_pem;
  c.client_key_pem = pki.client_key_pem;
  TlsSettings d = a;
  d.insecure = true;

  auto ca = AcquireClientSslCtx(a);
  auto ca2 = AcquireClientSslCtx(a2);
  auto cb = AcquireClientSslCtx(b);
  auto cc = AcquireClientSslCtx(c);
  auto cd = AcquireClientSslCtx(d);
  REQUIRE(ca.ok());
  REQUIRE(ca2.ok());
  REQUIRE(cb.ok());
  REQUIRE(cc.ok());
  REQUIRE(cd.ok());
  CHECK(*ca == *ca2);
  CHECK(*ca != *cb);
  CHECK(*ca != *cc);
  CHECK(*ca != *cd);
  CHECK(*cb != *cc);
  // The context holds exactly its own trust: one CA each, never the other's.
  CHECK(StoreSize(*ca) == 1);
  CHECK(StoreSize(*cb) == 1);
  CHECK(SSL_CTX_get_verify_mode(*ca) == SSL_VERIFY_PEER);
  CHECK(SSL_CTX_get_verify_mode(*cd) == SSL_VERIFY_NONE);
  CHECK(SSL_CTX_get0_certificate(*cc) != nullptr);
  CHECK(SSL_CTX_get0_certificate(*ca) == nullptr);
  for (SSL_CTX* x : {*ca, *ca2, *cb, *cc, *cd}) SSL_CTX_free(x);

  // Still usable after the callers released theirs (the cache keeps a reference).
  auto again = AcquireClientSslCtx(a);
  REQUIRE(again.ok());
  CHECK(StoreSize(*again) == 1);
  SSL_CTX_free(*again);

  TlsSettings bad;
  bad.ca_pem = "not a certificate";
  bad.ca_source = "ca.crt";
  for (int i = 0; i < 2; ++i) {  // the second call fails the same way: nothing was cached
    auto r = AcquireClientSslCtx(bad);
    REQUIRE(!r.ok());
    CHECK(r.error().code == ErrorCode::kConfig);
    CHECK(r.error().message.find("ca.crt") != std::string::npos);
  }
}

TEST_CASE("shared TLS context: more materials than the cache holds all stay correct") {
  const auto& pki = test::Pki();
  REQUIRE(pki.ok);
  // 20 distinct materials (the CA repeated n times: a different key, still one CA), then
  // the first again: evicted or not, it is correct.
  std::vector<SSL_CTX*> held;
  for (int n = 1; n <= 20; ++n) {
    TlsSettings s;
    for (int i = 0; i < n; ++i) s.ca_pem += pki.ca_pem;
    auto r = AcquireClientSslCtx(s);
    REQUIRE(r.ok());
    held.push_back(*r);
  }
  TlsSettings first;
  first.ca_pem = pki.ca_pem;
  auto r = AcquireClientSslCtx(first);
  REQUIRE(r.ok());
  CHECK(StoreSize(*r) == 1);
  CHECK(StoreSize(held[0]) == 1);  // evicted from the cache, alive through our reference
  SSL_CTX_free(*r);
  for (SSL_CTX* x : held) SSL_CTX_free(x);
}

// One blocking client connection on the shared context: handshake, one echoed byte (which
// also reads TLS 1.3's session tickets), close. Returns -1 on failure, else SSL_session_reused.
int EchoOnce(const TlsSettings& tls, int port) {
  auto ctx = AcquireClientSslCtx(tls);
  if (!ctx.ok()) return -1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int reused = -1;
  SSL* ssl = SSL_new(*ctx);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    SSL_set_fd(ssl, fd);
    ApplyPeerName(ssl, tls, "127.0.0.1");
    OfferCachedSession(ssl);
    char c = 0;
    if (SSL_connect(ssl) == 1 && SSL_write(ssl, "x", 1) == 1 && SSL_read(ssl, &c, 1) == 1 &&
        c == 'x')
      reused = SSL_session_reused(ssl);
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  close(fd);
  SSL_CTX_free(*ctx);
  return reused;
}

TEST_CASE("shared TLS context: a later connection resumes only where the same name was verified") {
  const auto& pki = test::Pki();
  REQUIRE(pki.ok);
  test::TestTlsServer server({}, test::EchoHandler);
  TlsSettings tls;
  tls.ca_pem = pki.ca_pem;
  CHECK(EchoOnce(tls, server.port()) == 0);  // full handshake, certificate verified
  CHECK(EchoOnce(tls, server.port()) == 1);  // the lookup -> upgrade case: resumed
  TlsSettings named = tls;
  named.server_name = "kproxy.test";  // same context, another verified name: full handshake
  CHECK(EchoOnce(named, server.port()) == 0);
  CHECK(EchoOnce(named, server.port()) == 1);
  TlsSettings insecure = tls;
  insecure.insecure = true;  // nothing verified, nothing kept or offered
  CHECK(EchoOnce(insecure, server.port()) == 0);
  CHECK(EchoOnce(insecure, server.port()) == 0);
  test::TestTlsServer other({}, test::EchoHandler);  // same name, another server
  CHECK(EchoOnce(tls, other.port()) == 0);
}

}  // namespace
}  // namespace kproxy
