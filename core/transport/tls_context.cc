#include "core/transport/tls_context.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <deque>
#include <map>
#include <mutex>
#include <utility>

namespace kproxy {
namespace {

// Loads every certificate of a PEM bundle into `store`; false if none parsed.
bool LoadPemBundle(X509_STORE* store, const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return false;
  int count = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store, cert) == 1) ++count;
    X509_free(cert);
  }
  ERR_clear_error();  // the loop ends on a "no start line" error by design
  BIO_free(bio);
  return count > 0;
}

Status LoadClientIdentity(SSL_CTX* ctx, const std::string& cert_pem, const std::string& key_pem) {
  BIO* cbio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cbio, nullptr, nullptr, nullptr);
  if (!cert) {
    BIO_free(cbio);
    ERR_clear_error();
    return MakeError(ErrorCode::kConfig, "client certificate data is not a PEM certificate");
  }
  SSL_CTX_use_certificate(ctx, cert);
  X509_free(cert);
  // Intermediates that follow the leaf are sent as the chain.
  while (X509* extra = PEM_read_bio_X509(cbio, nullptr, nullptr, nullptr))
    SSL_CTX_add_extra_chain_cert(ctx, extra);  // takes ownership
  ERR_clear_error();
  BIO_free(cbio);
  BIO* kbio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kbio, nullptr, nullptr, nullptr);
  BIO_free(kbio);
  if (!key) {
    ERR_clear_error();
    return MakeError(ErrorCode::kConfig, "client key data is not a PEM private key");
  }
  int ok = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (ok != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return MakeError(ErrorCode::kConfig, "client certificate and key do not match");
  }
  return Status::Ok();
}

// "name|address:port" of the peer `ssl` talks to, "" when it cannot be told (no verified
// name: insecure, or no socket yet).
std::string SessionKey(const SSL* ssl) {
  if (SSL_get_verify_mode(ssl) == SSL_VERIFY_NONE) return "";
  X509_VERIFY_PARAM* param = SSL_get0_param(const_cast<SSL*>(ssl));
  std::string name;
  if (const char* host = X509_VERIFY_PARAM_get0_host(param, 0)) {
    name = host;
  } else if (char* ip = X509_VERIFY_PARAM_get1_ip_asc(param)) {
    name = ip;
    OPENSSL_free(ip);
  }
  if (name.empty()) return "";
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  int fd = SSL_get_fd(ssl);
  if (fd < 0 || getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  char addr[INET6_ADDRSTRLEN] = {0};
  int port = 0;
  if (ss.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &in->sin_addr, addr, sizeof addr);
    port = ntohs(in->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof addr);
    port = ntohs(in6->sin6_port);
  } else {
    return "";
  }
  return name + "|" + addr + ":" + std::to_string(port);
}

// Sessions per SSL_CTX (ex data), newest per key.
struct SessionStore {
  std::mutex mu;
  std::map<std::string, SSL_SESSION*> by_key;
};

void FreeSessionStore(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  auto* store = static_cast<SessionStore*>(ptr);
  if (!store) return;
  for (auto& [k, sess] : store->by_key) SSL_SESSION_free(sess);
  delete store;
}

int SessionStoreIndex() {
  static const int idx = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, FreeSessionStore);
  return idx;
}

// OpenSSL's new-session callback (TLS 1.3 tickets arrive after the handshake, while the
// response is read). Returns 1: we keep the reference.
int OnNewSession(SSL* ssl, SSL_SESSION* sess) {
  auto* store =
      static_cast<SessionStore*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), SessionStoreIndex()));
  std::string key = SessionKey(ssl);
  if (!store || key.empty() || !SSL_SESSION_is_resumable(sess)) return 0;
  std::lock_guard<std::mutex> lock(store->mu);
  SSL_SESSION*& slot = store->by_key[key];
  if (slot) SSL_SESSION_free(slot);
  slot = sess;
  return 1;
}

}  // namespace

void OfferCachedSession(SSL* ssl) {
  auto* store =
      static_cast<SessionStore*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), SessionStoreIndex()));
  std::string key = store ? SessionKey(ssl) : "";
  if (key.empty()) return;
  std::lock_guard<std::mutex> lock(store->mu);
  auto it = store->by_key.find(key);
  if (it != store->by_key.end() && SSL_SESSION_is_resumable(it->second))
    SSL_set_session(ssl, it->second);  // takes its own reference
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string AlpnWire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const auto& p : protocols) {
    wire.push_back(static_cast<char>(p.size()));
    wire += p;
  }
  return wire;
}

std::string OpenSslErrorLine() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    const char* reason = ERR_reason_error_string(e);
    if (!out.empty()) out += "; ";
    out += reason ? reason : buf;
  }
  return out;
}

Status ConfigureClientTlsContext(SSL_CTX* ctx, const TlsSettings& s) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (s.insecure) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (!s.ca_pem.empty()) {
      if (!LoadPemBundle(SSL_CTX_get_cert_store(ctx), s.ca_pem))
        return MakeError(ErrorCode::kConfig,
                         "certificate-authority data" +
                             (s.ca_source.empty() ? std::string() : " from " + s.ca_source) +
                             " holds no PEM certificate");
    } else {
      SSL_CTX_set_default_verify_paths(ctx);
    }
  }
  if (!s.client_cert_pem.empty() || !s.client_key_pem.empty()) {
    Status st = LoadClientIdentity(ctx, s.client_cert_pem, s.client_key_pem);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

Result<SSL_CTX*> AcquireClientSslCtx(const TlsSettings& s) {
  // Only what ConfigureClientTlsContext reads; ca_source only names the file in errors.
  std::string key = std::string(s.insecure ? "1" : "0") + '\0' + s.ca_pem + '\0' +
                    s.client_cert_pem + '\0' + s.client_key_pem;
  // Deliberately never destroyed: freeing contexts from a static destructor could run after
  // OpenSSL's own atexit cleanup. Reachable, so leak checkers do not report it.
  static auto* mu = new std::mutex;
  static auto* cache = new std::deque<std::pair<std::string, SSL_CTX*>>;
  constexpr size_t kMaxCached = 8;  // distinct TLS materials in one process: a handful
  std::lock_guard<std::mutex> lock(*mu);
  for (auto& [k, ctx] : *cache) {
    if (k == key) {
      SSL_CTX_up_ref(ctx);
      return ctx;
    }
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return MakeError(ErrorCode::kInternal, "cannot create a TLS context");
  Status st = ConfigureClientTlsContext(ctx, s);
  if (!st.ok()) {
    SSL_CTX_free(ctx);
    return st.error();
  }
  SSL_CTX_set_ex_data(ctx, SessionStoreIndex(), new SessionStore);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, OnNewSession);
  if (cache->size() == kMaxCached) {
    SSL_CTX_free(cache->front().second);  // live connections hold their own references
    cache->pop_front();
  }
  SSL_CTX_up_ref(ctx);
  cache->emplace_back(std::move(key), ctx);
  return ctx;
}

void ApplyPeerName(SSL* ssl, const TlsSettings& s, const std::string& url_host) {
  const std::string& name = s.server_name.empty() ? url_host : s.server_name;
  // Also clears an SNI someone else (lws) set from an IP literal.
  SSL_set_tlsext_host_name(ssl, IsIpLiteral(name) ? nullptr : const_cast<char*>(name.c_str()));
  if (s.insecure) {
    SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
    return;
  }
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (IsIpLiteral(name)) {
    X509_VERIFY_PARAM_set1_host(param, nullptr, 0);  // drop a DNS name set by someone else
    X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
  }
}

}  // namespace kproxy
