// Test-only helpers for transport tests: a throwaway PKI made with the openssl CLI, a small
// blocking OpenSSL server on 127.0.0.1 in a thread (bounded), and a tinyproxy launcher.
// Independent of the production TLS code on purpose.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "core/transport/tls_connection.h"
#include "tests/support/test_env.h"

namespace kproxy::test {

inline std::string Slurp(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// CA "test-ca" → server cert for DNS:kproxy.test, DNS:localhost, IP:127.0.0.1; a client cert
// "alice" signed by the same CA; and an unrelated CA "other-ca".
struct TransportTestPki {
  std::string ca_pem, server_cert_pem, server_key_pem, client_cert_pem, client_key_pem;
  std::string other_ca_pem;
  std::filesystem::path dir;
  bool ok = false;
};

inline const TransportTestPki& Pki() {
  static TempDir* dir = new TempDir();  // lives for the process
  static TransportTestPki pki = [] {
    TransportTestPki p;
    p.dir = dir->path();
    std::string d = p.dir.string();
    std::ofstream(p.dir / "server.ext")
        << "subjectAltName=DNS:kproxy.test,DNS:localhost,IP:127.0.0.1\n";
    std::ofstream(p.dir / "client.ext") << "extendedKeyUsage=clientAuth\n";
    std::string cmd =
        "cd '" + d + "' && " +
        "K='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes' && "
        "openssl req -x509 $K -keyout ca.key -out ca.crt -subj /CN=test-ca -days 2 && "
        "openssl req -x509 $K -keyout other.key -out other.crt -subj /CN=other-ca -days 2 && "
        "openssl req $K -keyout server.key -out server.csr -subj /CN=kproxy.test && "
        "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
        "-out server.crt -days 2 -extfile server.ext && "
        "openssl req $K -keyout client.key -out client.csr -subj /CN=alice && "
        "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
        "-out client.crt -days 2 -extfile client.ext";
    cmd = "(" + cmd + ") >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) return p;
    p.ca_pem = Slurp(p.dir / "ca.crt");
    p.other_ca_pem = Slurp(p.dir / "other.crt");
    p.server_cert_pem = Slurp(p.dir / "server.crt");
    p.server_key_pem = Slurp(p.dir / "server.key");
    p.client_cert_pem = Slurp(p.dir / "client.crt");
    p.client_key_pem = Slurp(p.dir / "client.key");
    p.ok = !p.ca_pem.empty() && !p.client_key_pem.empty();
    return p;
  }();
  return pki;
}

// A TlsConnection target for a local test server trusting the test CA, 5 s deadline.
inline DialTarget TlsTarget(int port, const std::string& scheme = "https",
                            const std::string& host = "127.0.0.1") {
  DialTarget t;
  t.server.scheme = scheme;
  t.server.host = host;
  t.server.port = static_cast<uint16_t>(port);
  t.tls.ca_pem = Pki().ca_pem;
  t.timeout = std::chrono::milliseconds(5000);
  return t;
}

inline int ListenLoopback(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 8) != 0) {
    close(fd);
    return -1;
  }
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

// A blocking TLS (or plain) server thread: per connection, `handler` gets the SSL* (null for
// plain) and the fd. Every socket has a 5 s receive timeout; the thread ends on Stop().
class TestTlsServer {
 public:
  enum class Alpn { kHonour, kForceH2, kRefuse, kNone };
  struct Options {
    bool tls = true;
    Alpn alpn = Alpn::kHonour;
    bool require_client_cert = false;
  };
  using Handler = std::function<void(SSL* ssl, int fd)>;

  TestTlsServer(Options o, Handler h) : opts_(o), handler_(std::move(h)) {
    listen_fd_ = ListenLoopback(&port_);
    if (opts_.tls) {
      ctx_ = SSL_CTX_new(TLS_server_method());
      const auto& pki = Pki();
      BIO* cb = BIO_new_mem_buf(pki.server_cert_pem.data(), -1);
      X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
      BIO_free(cb);
      BIO* kb = BIO_new_mem_buf(pki.server_key_pem.data(), -1);
      EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
      BIO_free(kb);
      SSL_CTX_use_certificate(ctx_, cert);
      SSL_CTX_use_PrivateKey(ctx_, key);
      X509_free(cert);
      EVP_PKEY_free(key);
      if (opts_.require_client_cert) {
        BIO* ab = BIO_new_mem_buf(pki.ca_pem.data(), -1);
        X509* ca = PEM_read_bio_X509(ab, nullptr, nullptr, nullptr);
        BIO_free(ab);
        X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx_), ca);
        X509_free(ca);
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      }
      if (opts_.alpn != Alpn::kNone) SSL_CTX_set_alpn_select_cb(ctx_, &AlpnSelect, this);
      SSL_CTX_set_tlsext_servername_callback(ctx_, &SniSeen);
      SSL_CTX_set_tlsext_servername_arg(ctx_, this);
    }
    thread_ = std::thread([this] { Serve(); });
  }
  ~TestTlsServer() {
    stop_ = true;
    thread_.join();
    close(listen_fd_);
    if (ctx_) SSL_CTX_free(ctx_);
  }
  int port() const { return port_; }
  std::string sni() {
    std::lock_guard<std::mutex> l(mu_);
    return sni_;
  }
  std::string offered_alpn() {
    std::lock_guard<std::mutex> l(mu_);
    return offered_alpn_;
  }
  int handshakes_ok() const { return handshakes_ok_; }

 private:
  static int AlpnSelect(SSL*, const unsigned char** out, unsigned char* outlen,
                        const unsigned char* in, unsigned inlen, void* arg) {
    auto* self = static_cast<TestTlsServer*>(arg);
    {
      std::lock_guard<std::mutex> l(self->mu_);
      self->offered_alpn_.clear();
      for (unsigned i = 0; i < inlen;) {
        unsigned len = in[i];
        if (!self->offered_alpn_.empty()) self->offered_alpn_ += ",";
        self->offered_alpn_.append(reinterpret_cast<const char*>(in + i + 1), len);
        i += 1 + len;
      }
    }
    static const unsigned char h2[] = {'h', '2'};
    static const unsigned char h11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    switch (self->opts_.alpn) {
      case Alpn::kForceH2:  // a broken front end that answers h2 whatever was offered
        *out = h2;
        *outlen = 2;
        return SSL_TLSEXT_ERR_OK;
      case Alpn::kRefuse:  // a strict h2-only server: no_application_protocol alert
        return SSL_TLSEXT_ERR_ALERT_FATAL;
      default:
        if (SSL_select_next_proto(const_cast<unsigned char**>(out), outlen, h11, sizeof h11, in,
                                  inlen) == OPENSSL_NPN_NEGOTIATED)
          return SSL_TLSEXT_ERR_OK;
        return SSL_TLSEXT_ERR_NOACK;
    }
  }
  static int SniSeen(SSL* ssl, int*, void* arg) {
    auto* self = static_cast<TestTlsServer*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    std::lock_guard<std::mutex> l(self->mu_);
    self->sni_ = name ? name : "";
    return SSL_TLSEXT_ERR_OK;
  }
  void Serve() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) != 1) continue;
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      timeval tv{5, 0};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      SSL* ssl = nullptr;
      if (ctx_) {
        ssl = SSL_new(ctx_);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) != 1) {
          SSL_free(ssl);
          close(fd);
          ERR_clear_error();
          continue;
        }
        ++handshakes_ok_;
      }
      handler_(ssl, fd);
      if (ssl) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
      }
      close(fd);
    }
  }

  Options opts_;
  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  SSL_CTX* ctx_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> handshakes_ok_{0};
  std::mutex mu_;
  std::string sni_, offered_alpn_;
};

// Reads what the peer sends and echoes it back until EOF (TLS or plain).
inline void EchoHandler(SSL* ssl, int fd) {
  char buf[16384];
  for (;;) {
    int n = ssl ? SSL_read(ssl, buf, sizeof buf) : static_cast<int>(read(fd, buf, sizeof buf));
    if (n <= 0) return;
    int off = 0;
    while (off < n) {
      int w = ssl ? SSL_write(ssl, buf + off, n - off)
                  : static_cast<int>(write(fd, buf + off, static_cast<size_t>(n - off)));
      if (w <= 0) return;
      off += w;
    }
  }
}

// tinyproxy on a free loopback port, killed on destruction.
class TinyProxy {
 public:
  // `basic_auth`: "user password" to require Proxy-Authorization, or "".
  explicit TinyProxy(const std::string& basic_auth = "") {
    int port = 0;
    int fd = ListenLoopback(&port);  // reserve a free port, then hand it over
    close(fd);
    port_ = port;
    conf_ = dir_.path() / "tinyproxy.conf";
    std::ofstream(conf_) << "Port " << port_ << "\nListen 127.0.0.1\nTimeout 20\nMaxClients 8\n"
                         << "Allow 127.0.0.1\nLogLevel Critical\n";
    if (!basic_auth.empty())
      std::ofstream(conf_, std::ios::app) << "BasicAuth " << basic_auth << "\n";
    pid_ = fork();
    if (pid_ == 0) {
      execlp("tinyproxy", "tinyproxy", "-d", "-c", conf_.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    // Wait (bounded) until it accepts connections.
    for (int i = 0; i < 100 && !ready_; ++i) {
      int s = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<uint16_t>(port_));
      ready_ = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      close(s);
      if (!ready_) usleep(20000);
    }
  }
  ~TinyProxy() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool ready() const { return ready_; }
  int port() const { return port_; }

 private:
  TempDir dir_;
  std::filesystem::path conf_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool ready_ = false;
};

// Reads an HTTP request head from a raw test connection.
inline std::string ReadHead(SSL* ssl) {
  std::string head;
  char c;
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
    if (SSL_read(ssl, &c, 1) != 1) break;
    head.push_back(c);
  }
  return head;
}

inline void SslWriteAll(SSL* ssl, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    int n = SSL_write(ssl, s.data() + off, static_cast<int>(s.size() - off));
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

inline std::string HeaderValue(const std::string& head, const std::string& name_lower) {
  size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string::npos) {
    pos += 2;
    size_t colon = head.find(':', pos);
    size_t eol = head.find("\r\n", pos);
    if (colon == std::string::npos || eol == std::string::npos || colon > eol) continue;
    std::string name = head.substr(pos, colon - pos);
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (name == name_lower) {
      std::string v = head.substr(colon + 1, eol - colon - 1);
      while (!v.empty() && v[0] == ' ') v.erase(0, 1);
      return v;
    }
  }
  return "";
}

// RFC 6455 §4.2.2: base64(SHA-1(key + GUID)), computed independently of lws.
inline std::string AcceptFor(const std::string& key) {
  std::string in = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char sha[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(in.data()), in.size(), sha);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, sha, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n));
}

}  // namespace kproxy::test
