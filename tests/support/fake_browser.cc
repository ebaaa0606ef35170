#include "tests/support/fake_browser.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace kproxy::test {
namespace {

std::string PercentDecodeForTest(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

std::string PercentEncodeForTest(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string QueryParam(const std::string& target, const std::string& name) {
  size_t q = target.find('?');
  if (q == std::string::npos) return "";
  std::string query = target.substr(q + 1);
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string part = query.substr(pos, amp == std::string::npos ? amp : amp - pos);
    size_t eq = part.find('=');
    if (part.substr(0, eq) == name) {
      return eq == std::string::npos ? "" : PercentDecodeForTest(part.substr(eq + 1));
    }
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return "";
}

}  // namespace

// One accepted connection, plain or TLS.
struct FakeAccessProxy::Peer {
  int fd = -1;
  SSL* ssl = nullptr;
  ssize_t Read(char* buf, size_t n) {
    if (ssl != nullptr) return SSL_read(ssl, buf, static_cast<int>(n));
    return ::recv(fd, buf, n, 0);
  }
  ssize_t Write(const char* buf, size_t n) {
    if (ssl != nullptr) return SSL_write(ssl, buf, static_cast<int>(n));
    return ::send(fd, buf, n, MSG_NOSIGNAL);
  }
};

namespace {

bool ReadHead(FakeAccessProxy::Peer& peer, std::string* head, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  while (head->find("\r\n\r\n") == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0 || head->size() > 65536) return false;
    if (peer.ssl == nullptr || SSL_pending(peer.ssl) == 0) {
      pollfd p{peer.fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    }
    ssize_t n = peer.Read(buf, sizeof buf);
    if (n <= 0) return false;
    head->append(buf, static_cast<size_t>(n));
  }
  return true;
}

void SendResponse(FakeAccessProxy::Peer& peer, int status, const std::string& reason,
                  const std::string& body, const std::string& extra = "") {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                  "\r\nContent-Length: " + std::to_string(body.size()) +
                  "\r\nContent-Type: text/plain\r\nConnection: close\r\n" + extra + "\r\n" + body;
  size_t off = 0;
  while (off < r.size()) {
    ssize_t n = peer.Write(r.data() + off, r.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

}  // namespace

std::string Base64UrlForTest(const std::string& bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

std::string MakeTestJwt(const std::string& payload_json) {
  return Base64UrlForTest(R"({"alg":"ES256","typ":"JWT"})") + "." + Base64UrlForTest(payload_json) +
         "." + Base64UrlForTest("not-a-real-signature");
}

RawHttpResponse RawHttp(const std::string& method, const std::string& url,
                        const std::vector<std::string>& extra_headers) {
  RawHttpResponse out;
  const std::string prefix = "http://127.0.0.1:";
  if (url.rfind(prefix, 0) != 0) throw std::runtime_error("RawHttp: loopback only: " + url);
  size_t slash = url.find('/', prefix.size());
  int port = std::stoi(url.substr(prefix.size(), slash - prefix.size()));
  std::string target = slash == std::string::npos ? "/" : url.substr(slash);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return out;
  }
  std::string req =
      method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n";
  for (const auto& h : extra_headers) req += h + "\r\n";
  req += "Connection: close\r\n\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string data;
  char buf[4096];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t end = data.find("\r\n\r\n");
  if (end == std::string::npos || data.size() < 12) return out;
  out.status = std::stoi(data.substr(9, 3));
  size_t pos = data.find("\r\n") + 2;
  while (pos < end) {
    size_t eol = data.find("\r\n", pos);
    std::string line = data.substr(pos, eol - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(tolower(c));
      out.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    pos = eol + 2;
  }
  out.body = data.substr(end + 4);
  return out;
}

FakeAccessProxy::FakeAccessProxy(bool tls) {
  if (tls) SetUpTls();
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("FakeAccessProxy: cannot listen");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

FakeAccessProxy::~FakeAccessProxy() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
  if (tls_ctx_ != nullptr) SSL_CTX_free(tls_ctx_);
}

void FakeAccessProxy::SetUpTls() {
  // A throwaway self-signed P-256 certificate for IP 127.0.0.1.
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("kproxy fake access proxy"), -1,
                             -1, 0);
  X509_set_issuer_name(cert, name);
  X509_set_pubkey(cert, key);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(cert, key, EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  ca_pem_.assign(data, static_cast<size_t>(len));
  BIO_free(bio);
  tls_ctx_ = SSL_CTX_new(TLS_server_method());
  SSL_CTX_use_certificate(tls_ctx_, cert);
  SSL_CTX_use_PrivateKey(tls_ctx_, key);
  X509_free(cert);
  EVP_PKEY_free(key);
}

std::string FakeAccessProxy::url() const {
  return std::string(tls_ctx_ != nullptr ? "https" : "http") +
         "://127.0.0.1:" + std::to_string(port_);
}

void FakeAccessProxy::Revoke(const std::string& jwt) {
  std::lock_guard<std::mutex> lock(mu_);
  valid_.erase(jwt);
}

std::string FakeAccessProxy::last_redirect_uri() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_redirect_uri_;
}

std::vector<std::string> FakeAccessProxy::issued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return issued_;
}

void FakeAccessProxy::Serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Peer peer{fd, nullptr};
    bool ok = true;
    if (tls_ctx_ != nullptr) {
      timeval tv{2, 0};  // a stuck handshake must not wedge the fake
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      peer.ssl = SSL_new(tls_ctx_);
      SSL_set_fd(peer.ssl, fd);
      ok = SSL_accept(peer.ssl) == 1;
    }
    if (ok) Handle(peer);
    if (peer.ssl != nullptr) {
      if (ok) SSL_shutdown(peer.ssl);
      SSL_free(peer.ssl);
    }
    ::close(fd);
  }
}

void FakeAccessProxy::Handle(Peer& fd) {
  std::string head;
  if (!ReadHead(fd, &head, 2000)) return;
  std::string line = head.substr(0, head.find("\r\n"));
  size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  std::string method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string path = target.substr(0, target.find('?'));
  std::string auth;
  std::string lower = head;
  for (char& c : lower) c = static_cast<char>(tolower(c));
  if (size_t a = lower.find("\r\nauthorization:"); a != std::string::npos) {
    size_t v = a + 16;
    auth = head.substr(v, head.find("\r\n", v) - v);
    auth.erase(0, auth.find_first_not_of(' '));
  }
  auto session_ok = [&] {
    const std::string prefix = "Bearer Pomerium-";
    if (auth.rfind(prefix, 0) != 0) return false;
    std::lock_guard<std::mutex> lock(mu_);
    return valid_.count(auth.substr(prefix.size())) > 0;
  };
  if (path == "/.pomerium/api/v1/login") {
    ++login_hits_;
    if (!auth.empty()) login_saw_auth_ = true;
    if (method != "GET") return SendResponse(fd, 405, "Method Not Allowed", "");
    std::string redirect = QueryParam(target, "pomerium_redirect_uri");
    if (redirect.empty()) return SendResponse(fd, 404, "Not Found", "");
    int st = login_status_;
    if (st != 200) return SendResponse(fd, st, "Refused", "no\n");
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_redirect_uri_ = redirect;
    }
    return SendResponse(fd, 200, "OK",
                        url() + "/.pomerium/sign_in?pomerium_redirect_uri=" +
                            PercentEncodeForTest(redirect) + "\n");
  }
  if (path == "/.pomerium/sign_in") {
    ++sign_in_hits_;
    std::string redirect = QueryParam(target, "pomerium_redirect_uri");
    std::string jwt;
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::string payload =
          R"({"iss":"authenticate.fake.test","sub":"user-)" + std::to_string(issued_.size() + 1) +
          R"(","aud":"fake.test","iat":1700000000,"jti":"j)" + std::to_string(issued_.size() + 1) +
          R"(","email":"alice@example.com","groups":["dev"])";
      if (jwt_exp_ != 0) payload += ",\"exp\":" + std::to_string(jwt_exp_.load());
      payload += "}";
      jwt = MakeTestJwt(payload);
      issued_.push_back(jwt);
      valid_.insert(jwt);
    }
    // Pomerium keeps the redirect's query and appends pomerium_jwt.
    std::string location = redirect + (redirect.find('?') == std::string::npos ? "?" : "&") +
                           "pomerium_jwt=" + PercentEncodeForTest(jwt);
    return SendResponse(fd, 302, "Found", "", "Location: " + location + "\r\n");
  }
  if (path == "/.pomerium/user") {
    ++probe_hits_;
    if (session_ok()) return SendResponse(fd, 200, "OK", R"({"email":"alice@example.com"})");
    return SendResponse(fd, 401, "Unauthorized", "");
  }
  if (path == "/healthz" || path == "/ping") return SendResponse(fd, 200, "OK", "OK");
  if (path.rfind("/api", 0) == 0 || path == "/version") {
    ++api_hits_;
    if (session_ok()) return SendResponse(fd, 200, "OK", R"({"kind":"PodList","items":[]})");
    return SendResponse(fd, 401, "Unauthorized", "");
  }
  SendResponse(fd, 404, "Not Found", "");
}

std::filesystem::path WriteFakeBrowserScript(const std::filesystem::path& dir,
                                             const std::filesystem::path& log_file) {
  auto path = dir / "fake-browser.sh";
  std::ofstream out(path);
  out << "#!/bin/sh\n"
      << "echo \"$1\" >> '" << log_file.string() << "'\n"
      << "exec curl -s -k -L --max-time 10 -o /dev/null \"$1\"\n";
  out.close();
  ::chmod(path.c_str(), 0755);
  return path;
}

}  // namespace kproxy::test
