#include "tests/support/https_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <stdexcept>

namespace kproxy::test {
namespace {

constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr auto kIdleLimit = std::chrono::seconds(10);

SSL_CTX* Ctx(void* p) { return static_cast<SSL_CTX*>(p); }

void LoadPem(SSL_CTX* ctx, const HttpsServerOptions& o) {
  BIO* cb = BIO_new_mem_buf(o.certificate.cert.data(), static_cast<int>(o.certificate.cert.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO_free(cb);
  BIO* kb = BIO_new_mem_buf(o.certificate.key.data(), static_cast<int>(o.certificate.key.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  bool ok = cert && key && SSL_CTX_use_certificate(ctx, cert) == 1 &&
            SSL_CTX_use_PrivateKey(ctx, key) == 1;
  X509_free(cert);
  EVP_PKEY_free(key);
  if (!ok) throw std::runtime_error("https_server: bad certificate/key");
  if (o.client_ca.empty()) return;
  BIO* ab = BIO_new_mem_buf(o.client_ca.data(), static_cast<int>(o.client_ca.size()));
  X509* ca = PEM_read_bio_X509(ab, nullptr, nullptr, nullptr);
  BIO_free(ab);
  if (!ca) throw std::runtime_error("https_server: bad client CA");
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca);
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(ca)));
  SSL_CTX_set_client_CA_list(ctx, names);
  X509_free(ca);
  SSL_CTX_set_verify(
      ctx, SSL_VERIFY_PEER | (o.require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
      nullptr);
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

}  // namespace

std::vector<std::string> RecordedRequest::HeaderValues(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) {
      out.push_back(v);
    }
  }
  return out;
}

std::string RecordedRequest::Header(std::string_view name) const {
  auto all = HeaderValues(name);
  return all.empty() ? "" : all.front();
}

HttpsServer::HttpsServer(HttpsServerOptions options, Handler handler)
    : handler_(std::move(handler)) {
  // A client that hangs up before our response is written must not kill the test binary.
  ::signal(SIGPIPE, SIG_IGN);
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) throw std::runtime_error("https_server: SSL_CTX_new failed");
  ctx_ = ctx;
  try {
    LoadPem(ctx, options);
  } catch (...) {
    SSL_CTX_free(ctx);
    throw;
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (listen_fd_ >= 0) ::close(listen_fd_);
    SSL_CTX_free(ctx);
    throw std::runtime_error("https_server: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

HttpsServer::~HttpsServer() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
  ::close(listen_fd_);
  SSL_CTX_free(Ctx(ctx_));
}

std::string HttpsServer::url() const { return "https://127.0.0.1:" + std::to_string(port_); }

std::vector<RecordedRequest> HttpsServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void HttpsServer::AcceptLoop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    workers_.emplace_back([this, fd] { Serve(fd); });
  }
}

void HttpsServer::Serve(int fd) {
  // A short receive timeout lets the worker notice stop_ while a client idles.
  timeval tv{0, 50 * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  SSL* ssl = SSL_new(Ctx(ctx_));
  SSL_set_fd(ssl, fd);
  auto deadline = std::chrono::steady_clock::now() + kIdleLimit;
  int rc;
  while ((rc = SSL_accept(ssl)) != 1) {
    int err = SSL_get_error(ssl, rc);
    bool retry = (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) && !stop_ &&
                 std::chrono::steady_clock::now() < deadline;
    if (!retry) {
      ++failed_handshakes_;
      SSL_free(ssl);
      ::close(fd);
      return;
    }
  }
  std::string peer, sni;
  if (X509* cert = SSL_get1_peer_certificate(ssl)) {
    char buf[512];
    X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof(buf));
    peer = buf;
    X509_free(cert);
  }
  if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) sni = name;

  std::string in;
  char buf[16384];
  bool open = true;
  while (open && !stop_) {
    size_t end = in.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (in.size() > kMaxHeaderBytes || std::chrono::steady_clock::now() > deadline) break;
      int n = SSL_read(ssl, buf, sizeof(buf));
      if (n > 0) {
        in.append(buf, static_cast<size_t>(n));
        deadline = std::chrono::steady_clock::now() + kIdleLimit;
        continue;
      }
      int err = SSL_get_error(ssl, n);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) continue;
      break;
    }
    RecordedRequest req;
    req.peer_subject = peer;
    req.sni = sni;
    std::string head = in.substr(0, end);
    size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    size_t s1 = request_line.find(' ');
    size_t s2 = request_line.find(' ', s1 + 1);
    if (s1 == std::string::npos || s2 == std::string::npos) break;
    req.method = request_line.substr(0, s1);
    req.target = request_line.substr(s1 + 1, s2 - s1 - 1);
    size_t content_length = 0;
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t e = head.find("\r\n", pos);
      if (e == std::string::npos) e = head.size();
      std::string line = head.substr(pos, e - pos);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::string value = Trim(line.substr(colon + 1));
        if (strcasecmp(name.c_str(), "Content-Length") == 0) content_length = std::stoul(value);
        req.headers.emplace_back(name, value);
      }
      pos = e + 2;
    }
    while (in.size() < end + 4 + content_length && !stop_) {
      int n = SSL_read(ssl, buf, sizeof(buf));
      if (n > 0) {
        in.append(buf, static_cast<size_t>(n));
      } else {
        int err = SSL_get_error(ssl, n);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) break;
      }
    }
    if (in.size() < end + 4 + content_length) break;
    req.body = in.substr(end + 4, content_length);
    in.erase(0, end + 4 + content_length);
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
    }
    ScriptedResponse resp = handler_ ? handler_(req) : ScriptedResponse{};
    auto wake = std::chrono::steady_clock::now() + resp.delay;
    while (!stop_ && std::chrono::steady_clock::now() < wake) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::string out =
        "HTTP/1.1 " + std::to_string(resp.status) + " " + ReasonPhrase(resp.status) + "\r\n";
    bool has_type = false;
    for (const auto& [k, v] : resp.headers) {
      out += k + ": " + v + "\r\n";
      has_type |= strcasecmp(k.c_str(), "Content-Type") == 0;
      if (strcasecmp(k.c_str(), "Connection") == 0 && strcasecmp(v.c_str(), "close") == 0) {
        open = false;
      }
    }
    if (!has_type) out += "Content-Type: application/json\r\n";
    out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n\r\n" + resp.body;
    if (SSL_write(ssl, out.data(), static_cast<int>(out.size())) <= 0) break;
    deadline = std::chrono::steady_clock::now() + kIdleLimit;
  }
  SSL_shutdown(ssl);
  SSL_free(ssl);
  ::close(fd);
}

}  // namespace kproxy::test
