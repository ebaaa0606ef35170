#include "core/transport/tls_connection.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/base/log.h"
#include "core/transport/proxy_connect.h"

namespace kproxy {
namespace {

// Reads are gathered into one buffer until the socket is drained (or the buffer is nearly
// full) and handed up as one chunk: fewer callbacks, decoder calls and flushes per byte.
constexpr size_t kReadBuffer = 256 * 1024;
// SSL_read returns at most one record (16 KiB): stop filling when less room than that is left.
constexpr size_t kMinReadRoom = 16 * 1024;
// OpenSSL's own receive buffer with read-ahead: several records per recv() instead of two
// recv() calls (header, body) per record.
constexpr size_t kTlsReadAhead = 64 * 1024;

// Ciphertext is gathered up to this much before one send(): every 16 KiB record going out
// in its own send() cost a TCP push (and a peer wake-up) each.
constexpr size_t kCipherBatch = 256 * 1024;

// After the handshake the SSL writes records into this BIO, which appends them to a string
// (BIO data); the connection sends that string in large chunks. It never refuses a write, so
// SSL_write never reports WANT_WRITE: the caller bounds the batch instead.
int AppendBioWrite(BIO* bio, const char* data, int len) {
  auto* out = static_cast<std::string*>(BIO_get_data(bio));
  if (out == nullptr || len < 0) return -1;
  out->append(data, static_cast<size_t>(len));
  return len;
}

long AppendBioCtrl(BIO*, int cmd, long, void*) {
  // FLUSH must succeed (SSL flushes after each record); nothing else is supported.
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

BIO_METHOD* AppendBioMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "kproxy append");
    BIO_meth_set_write(m, AppendBioWrite);
    BIO_meth_set_ctrl(m, AppendBioCtrl);
    BIO_meth_set_create(m, [](BIO* b) {
      BIO_set_init(b, 1);
      return 1;
    });
    return m;
  }();
  return method;
}

}  // namespace

struct TlsConnection::Tls {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  std::string cipher;     // records written by SSL, not yet sent (after the handshake)
  size_t cipher_off = 0;  // bytes of `cipher` already sent
  bool batching = false;  // the append BIO is installed
  size_t CipherPending() const { return cipher.size() - cipher_off; }
  ~Tls() {
    if (ssl) SSL_free(ssl);
    if (ctx) SSL_CTX_free(ctx);
  }
};

Result<DialTarget> DialTargetFromRestConfig(const RestConfig& config, const GetEnvFn& getenv) {
  auto server = ParseServerUrl(config.server);
  if (!server.ok()) return server.error();
  DialTarget t;
  t.server = *server;
  auto proxy = ChooseProxy(config.proxy_url, t.server, getenv);
  if (!proxy.ok()) return proxy.error();
  t.proxy = *proxy;
  t.tls.ca_pem = config.ca_data;
  t.tls.ca_source = config.ca_file;
  t.tls.insecure = config.insecure_skip_tls_verify;
  t.tls.server_name = config.tls_server_name;
  t.tls.client_cert_pem = config.client_cert_data;
  t.tls.client_key_pem = config.client_key_data;
  if (config.timeout.count() > 0) t.timeout = config.timeout;
  return t;
}

TlsConnection::TlsConnection(EventLoop& loop, DialTarget target, Callbacks cb)
    : loop_(loop),
      target_(std::move(target)),
      cb_(std::move(cb)),
      alive_(std::make_shared<bool>(true)) {}

std::unique_ptr<TlsConnection> TlsConnection::Dial(EventLoop& loop, DialTarget target,
                                                   Callbacks callbacks) {
  std::unique_ptr<TlsConnection> c(
      new TlsConnection(loop, std::move(target), std::move(callbacks)));
  // Start on the next iteration so that every outcome, even an immediate DNS failure, is
  // reported through on_connected after Dial() returned.
  TlsConnection* self = c.get();
  std::weak_ptr<bool> alive = c->alive_;
  loop.Post([self, alive] {
    if (auto a = alive.lock(); a && *a) self->Start();
  });
  return c;
}

TlsConnection::~TlsConnection() {
  *alive_ = false;
  Teardown();
}

std::string TlsConnection::ServerName() const { return target_.server.Authority(); }

void TlsConnection::Start() {
  timer_ = loop_.AddTimer(target_.timeout, [this] {
    timer_ = 0;
    FailDial(DialFailure::kTimeout, ErrorCode::kTimeout,
             "timed out after " + std::to_string(target_.timeout.count()) +
                 " ms connecting to the server " + ServerName());
  });
  const std::string& host = target_.proxy ? target_.proxy->host : target_.server.host;
  uint16_t port = target_.proxy ? target_.proxy->port : target_.server.port;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0) {
    if (target_.proxy)
      FailDial(DialFailure::kProxy, ErrorCode::kUnavailable,
               "cannot resolve proxy " + host + ": " + gai_strerror(rc));
    else
      FailDial(DialFailure::kDns, ErrorCode::kUnavailable,
               "unable to connect to the server " + ServerName() + ": DNS lookup of " + host +
                   " failed: " + gai_strerror(rc));
    return;
  }
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    const auto* p = reinterpret_cast<const unsigned char*>(ai->ai_addr);
    addrs_.emplace_back(p, p + ai->ai_addrlen);
  }
  freeaddrinfo(res);
  ConnectNext();
}

void TlsConnection::ConnectNext() {
  if (watch_) {
    loop_.Unwatch(watch_);
    watch_ = 0;
  }
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  while (next_addr_ < addrs_.size()) {
    const auto& a = addrs_[next_addr_++];
    const auto* sa = reinterpret_cast<const sockaddr*>(a.data());
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // interactive keystrokes
    if (connect(fd, sa, static_cast<socklen_t>(a.size())) == 0 || errno == EINPROGRESS) {
      fd_ = fd;
      watch_ = loop_.Watch(fd_, false, true, [this](IoEvents ev) { OnIo(ev); });
      return;
    }
    last_connect_error_ = std::strerror(errno);
    close(fd);
  }
  if (target_.proxy)
    FailDial(DialFailure::kProxy, ErrorCode::kUnavailable,
             "cannot connect to proxy " + target_.proxy->host + ":" +
                 std::to_string(target_.proxy->port) + " for the server " + ServerName() + ": " +
                 last_connect_error_);
  else
    FailDial(DialFailure::kTcp, ErrorCode::kUnavailable,
             "unable to connect to the server " + ServerName() + ": " + last_connect_error_);
}

void TlsConnection::OnConnectDone() {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    last_connect_error_ = std::strerror(err);
    ConnectNext();
    return;
  }
  if (target_.proxy) {
    StartProxy();
  } else if (target_.server.scheme == "https") {
    StartTls();
  } else {
    state_ = State::kOpen;
    if (timer_) loop_.CancelTimer(timer_), timer_ = 0;
    UpdateInterest();
    auto alive = alive_;
    if (cb_.on_connected) cb_.on_connected(Status::Ok());
    if (*alive) UpdateInterest();
  }
}

void TlsConnection::StartProxy() {
  state_ = State::kProxy;
  proxy_out_ =
      BuildConnectRequest(target_.server.host, target_.server.port, target_.proxy->authorization);
  proxy_off_ = 0;
  UpdateInterest();
}

void TlsConnection::StartTls() {
  state_ = State::kTls;
  tls_ = std::make_unique<Tls>();
  const TlsSettings& s = target_.tls;
  // The process-wide context for this material (the WebSocket vhost uses it too), so
  // everything per connection is set on the SSL.
  auto ctx = AcquireClientSslCtx(s);
  if (!ctx.ok()) {
    FailDial(DialFailure::kTls, ctx.error().code, ctx.error().message);
    return;
  }
  tls_->ctx = *ctx;
  tls_->ssl = SSL_new(tls_->ctx);
  SSL_set_mode(tls_->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  std::string wire = AlpnWire(s.alpn);
  if (!wire.empty())
    SSL_set_alpn_protos(tls_->ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                        static_cast<unsigned>(wire.size()));
  SSL_set_read_ahead(tls_->ssl, 1);
  SSL_set_default_read_buffer_len(tls_->ssl, kTlsReadAhead);
  SSL_set_fd(tls_->ssl, fd_);
  ApplyPeerName(tls_->ssl, s, target_.server.host);
  OfferCachedSession(tls_->ssl);  // e.g. SPDY after the pod lookup: resume, no re-verify
  DoHandshake();
}

void TlsConnection::DoHandshake() {
  ERR_clear_error();
  int rc = SSL_connect(tls_->ssl);
  if (rc == 1) {
    const unsigned char* proto = nullptr;
    unsigned len = 0;
    SSL_get0_alpn_selected(tls_->ssl, &proto, &len);
    alpn_.assign(
        reinterpret_cast<const char*>(proto ? proto : reinterpret_cast<const unsigned char*>("")),
        len);
    if (alpn_ == "h2") {
      FailDial(DialFailure::kAlpnH2, ErrorCode::kUpgradeRejected,
               "the server " + ServerName() +
                   " negotiated HTTP/2 (ALPN h2) although only http/1.1 was offered: exec, "
                   "attach and port-forward need an HTTP/1.1 upgrade, impossible over HTTP/2");
      return;
    }
    state_ = State::kOpen;
    if (BIO* wbio = BIO_new(AppendBioMethod())) {
      BIO_set_data(wbio, &tls_->cipher);
      SSL_set0_wbio(tls_->ssl, wbio);  // reads stay on the socket BIO
      tls_->batching = true;
    }
    if (timer_) loop_.CancelTimer(timer_), timer_ = 0;
    auto alive = alive_;
    if (cb_.on_connected) cb_.on_connected(Status::Ok());
    if (!*alive) return;
    UpdateInterest();
    if (state_ == State::kOpen) DoRead();  // TLS may already hold decrypted bytes
    return;
  }
  int err = SSL_get_error(tls_->ssl, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    loop_.SetInterest(watch_, err == SSL_ERROR_WANT_READ, err == SSL_ERROR_WANT_WRITE);
    return;
  }
  long verify = SSL_get_verify_result(tls_->ssl);
  unsigned long first = ERR_peek_error();
  std::string detail = OpenSslErrorLine();
  if (verify != X509_V_OK) {
    FailDial(DialFailure::kVerify, ErrorCode::kUnavailable,
             "TLS handshake with the server " + ServerName() +
                 " failed: certificate verify failed: " + X509_verify_cert_error_string(verify));
    return;
  }
  if (ERR_GET_REASON(first) == SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL) {
    // Strict HTTP/2-only front ends (Go's crypto/tls with NextProtos=[h2]) refuse http/1.1.
    FailDial(DialFailure::kAlpnH2, ErrorCode::kUpgradeRejected,
             "the server " + ServerName() +
                 " refused ALPN http/1.1 (an HTTP/2-only front end): exec, attach and "
                 "port-forward need an HTTP/1.1 upgrade, impossible over HTTP/2");
    return;
  }
  if (detail.empty())
    detail = err == SSL_ERROR_SYSCALL && errno ? std::strerror(errno) : "connection closed by peer";
  FailDial(DialFailure::kTls, ErrorCode::kUnavailable,
           "TLS handshake with the server " + ServerName() + " failed: " + detail);
}

void TlsConnection::OnIo(IoEvents ev) {
  auto alive = alive_;
  switch (state_) {
    case State::kConnecting:
      OnConnectDone();
      return;
    case State::kProxy: {
      if (ev.writable && proxy_off_ < proxy_out_.size()) {
        ssize_t n =
            send(fd_, proxy_out_.data() + proxy_off_, proxy_out_.size() - proxy_off_, MSG_NOSIGNAL);
        if (n > 0) proxy_off_ += static_cast<size_t>(n);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
          FailDial(
              DialFailure::kProxy, ErrorCode::kUnavailable,
              "proxy " + target_.proxy->host + " closed the connection: " + std::strerror(errno));
          return;
        }
        UpdateInterest();
      }
      if (!ev.readable && !ev.hangup) return;
      char buf[1024];
      // Read at most the head: TLS bytes must stay in the socket for OpenSSL.
      ssize_t n = recv(fd_, buf, sizeof buf, MSG_PEEK);
      if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        FailDial(
            DialFailure::kProxy, ErrorCode::kUnavailable,
            "proxy " + target_.proxy->host + " closed the connection before answering CONNECT");
        return;
      }
      std::string_view peek(buf, static_cast<size_t>(n));
      proxy_in_.append(peek);
      size_t end = proxy_in_.find("\r\n\r\n");
      size_t take = static_cast<size_t>(n);
      if (end != std::string::npos) take = static_cast<size_t>(n) - (proxy_in_.size() - (end + 4));
      proxy_in_.resize(proxy_in_.size() - static_cast<size_t>(n) + take);
      [[maybe_unused]] ssize_t consumed = recv(fd_, buf, take, 0);
      ConnectReplyParser parser;
      auto st = parser.Feed(proxy_in_);
      if (st == ConnectReplyParser::State::kNeedMore) return;
      if (st == ConnectReplyParser::State::kError || parser.status() / 100 != 2) {
        std::string why = st == ConnectReplyParser::State::kError
                              ? parser.reason()
                              : std::to_string(parser.status()) + " " + parser.reason();
        FailDial(DialFailure::kProxy, ErrorCode::kUnavailable,
                 "proxy " + target_.proxy->host + ":" + std::to_string(target_.proxy->port) +
                     " refused CONNECT to " + ServerName() + ": " + why);
        return;
      }
      if (target_.server.scheme == "https") {
        StartTls();
      } else {
        state_ = State::kOpen;
        if (timer_) loop_.CancelTimer(timer_), timer_ = 0;
        if (cb_.on_connected) cb_.on_connected(Status::Ok());
        if (*alive) UpdateInterest();
      }
      return;
    }
    case State::kTls:
      DoHandshake();
      return;
    case State::kOpen:
      if (ev.writable || want_read_for_write_) DoWrite();
      if (!*alive || state_ != State::kOpen) return;
      if (ev.readable || ev.hangup || ev.error || want_write_for_read_) DoRead();
      if (*alive && state_ == State::kOpen) UpdateInterest();
      return;
    case State::kClosed:
      return;
  }
}

void TlsConnection::DoRead() {
  auto alive = alive_;
  want_write_for_read_ = false;
  if (!read_buf_) read_buf_ = std::make_unique<char[]>(kReadBuffer);
  char* buf = read_buf_.get();
  enum class End { kMore, kWouldBlock, kEof, kError };
  for (int round = 0; round < 8 && reading_; ++round) {
    size_t got = 0;
    End end = End::kMore;
    std::string detail;
    while (end == End::kMore && kReadBuffer - got >= kMinReadRoom) {
      if (tls_) {
        ERR_clear_error();
        errno = 0;  // a stale EAGAIN must not turn a clean EOF into an error below
        int n = SSL_read(tls_->ssl, buf + got, static_cast<int>(kReadBuffer - got));
        if (n > 0) {
          got += static_cast<size_t>(n);
          continue;
        }
        int err = SSL_get_error(tls_->ssl, n);
        if (err == SSL_ERROR_WANT_READ) {
          end = End::kWouldBlock;
        } else if (err == SSL_ERROR_WANT_WRITE) {
          want_write_for_read_ = true;
          end = End::kWouldBlock;
        } else if (err == SSL_ERROR_ZERO_RETURN ||
                   (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0)) {
          // close_notify, or EOF without it (API servers often skip it): a clean end here;
          // the protocol above decides whether the session ended properly.
          end = End::kEof;
        } else {
          detail = OpenSslErrorLine();
          if (detail.empty()) detail = errno ? std::strerror(errno) : "connection reset";
          end = End::kError;
        }
        continue;
      }
      ssize_t n = recv(fd_, buf + got, kReadBuffer - got, 0);
      if (n > 0) {
        got += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) {
        end = End::kWouldBlock;
      } else if (n == 0) {
        end = End::kEof;
      } else {
        detail = std::strerror(errno);
        end = End::kError;
      }
    }
    // Bytes read before an EOF or error are delivered first.
    if (got > 0 && cb_.on_data) {
      cb_.on_data(std::string_view(buf, got));
      if (!*alive || state_ != State::kOpen) return;
    }
    switch (end) {
      case End::kMore:
        continue;
      case End::kWouldBlock:
        return;
      case End::kEof:
        Teardown();
        if (cb_.on_closed) cb_.on_closed(Status::Ok());
        return;
      case End::kError:
        Lost(detail);
        return;
    }
  }
  // Stopped by the round bound (fairness) or by back-pressure. With read-ahead OpenSSL may
  // hold whole records the socket no longer signals: come back for them.
  if (reading_ && tls_ && SSL_has_pending(tls_->ssl)) {
    std::weak_ptr<bool> weak = alive_;
    loop_.Post([this, weak] {
      if (auto a = weak.lock(); a && *a && state_ == State::kOpen) DoRead();
    });
  }
}

size_t TlsConnection::CipherPending() const { return tls_ ? tls_->CipherPending() : 0; }

bool TlsConnection::SendCipher() {
  std::string& c = tls_->cipher;
  while (tls_->cipher_off < c.size()) {
    ssize_t n = send(fd_, c.data() + tls_->cipher_off, c.size() - tls_->cipher_off, MSG_NOSIGNAL);
    if (n > 0) {
      tls_->cipher_off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    Lost(std::strerror(errno));
    return false;
  }
  c.clear();
  tls_->cipher_off = 0;
  return true;
}

TlsConnection::SslStep TlsConnection::SslWriteSome() {
  size_t len = std::min<size_t>(out_.size() - out_off_, 64 * 1024);
  ERR_clear_error();
  int n = SSL_write(tls_->ssl, out_.data() + out_off_, static_cast<int>(len));
  if (n > 0) {
    out_off_ += static_cast<size_t>(n);
    return SslStep::kProgress;
  }
  int err = SSL_get_error(tls_->ssl, n);
  if (err == SSL_ERROR_WANT_WRITE) return SslStep::kBlocked;
  if (err == SSL_ERROR_WANT_READ) {
    want_read_for_write_ = true;
    return SslStep::kBlocked;
  }
  std::string detail = OpenSslErrorLine();
  Lost(detail.empty() ? (errno ? std::strerror(errno) : "write failed") : detail);
  return SslStep::kLost;
}

void TlsConnection::DoWrite() {
  want_read_for_write_ = false;
  if (tls_ && tls_->batching) {
    // Encrypt up to a batch of records into the cipher buffer, send it in one go, repeat
    // while the socket takes it.
    if (!SendCipher()) return;
    while (tls_->CipherPending() == 0 && out_off_ < out_.size()) {
      while (out_off_ < out_.size() && tls_->cipher.size() < kCipherBatch) {
        SslStep step = SslWriteSome();
        if (step == SslStep::kLost) return;
        if (step == SslStep::kBlocked) break;
      }
      if (!SendCipher()) return;
      if (want_read_for_write_) break;
    }
  } else {
    while (out_off_ < out_.size()) {
      if (tls_) {
        SslStep step = SslWriteSome();
        if (step == SslStep::kLost) return;
        if (step == SslStep::kBlocked) break;
        continue;
      }
      size_t len = std::min<size_t>(out_.size() - out_off_, 64 * 1024);
      ssize_t n = send(fd_, out_.data() + out_off_, len, MSG_NOSIGNAL);
      if (n > 0) {
        out_off_ += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
      Lost(std::strerror(errno));
      return;
    }
  }
  if (out_off_ == out_.size() && BufferedBytes() == 0) {
    bool had = !out_.empty();
    out_.clear();
    out_off_ = 0;
    if (had && cb_.on_drained) cb_.on_drained();
  } else if (out_off_ > 256 * 1024) {
    out_.erase(0, out_off_);
    out_off_ = 0;
  }
}

bool TlsConnection::Write(std::string_view bytes) {
  if (state_ == State::kClosed) return false;
  out_.append(bytes);
  if (state_ == State::kOpen) UpdateInterest();
  return true;
}

bool TlsConnection::WriteSwap(std::string& bytes) {
  if (state_ == State::kClosed) return false;
  if (out_off_ == out_.size()) {
    // Nothing pending: adopt the caller's buffer, hand ours (empty, with capacity) back.
    out_.swap(bytes);
    out_off_ = 0;
    bytes.clear();
  } else {
    out_.append(bytes);
    bytes.clear();
  }
  if (state_ == State::kOpen) UpdateInterest();
  return true;
}

void TlsConnection::SetReading(bool on) {
  reading_ = on;
  if (state_ == State::kOpen) {
    UpdateInterest();
    if (on && tls_ && SSL_has_pending(tls_->ssl)) {
      std::weak_ptr<bool> alive = alive_;
      loop_.Post([this, alive] {
        if (auto a = alive.lock(); a && *a && state_ == State::kOpen) DoRead();
      });
    }
  }
}

void TlsConnection::UpdateInterest() {
  if (!watch_) return;
  switch (state_) {
    case State::kConnecting:
      loop_.SetInterest(watch_, false, true);
      break;
    case State::kProxy:
      loop_.SetInterest(watch_, true, proxy_off_ < proxy_out_.size());
      break;
    case State::kTls:
      break;  // DoHandshake sets it from WANT_READ/WANT_WRITE
    case State::kOpen: {
      bool read = reading_ || want_read_for_write_;
      bool write = (BufferedBytes() > 0 && !want_read_for_write_) || want_write_for_read_;
      // Called after every Write(): skip the epoll_ctl when nothing changed (the hot path).
      if (open_interest_known_ && read == open_read_ && write == open_write_) break;
      open_interest_known_ = true;
      open_read_ = read;
      open_write_ = write;
      loop_.SetInterest(watch_, read, write);
      break;
    }
    case State::kClosed:
      loop_.SetInterest(watch_, false, false);
      break;
  }
}

void TlsConnection::FailDial(DialFailure why, ErrorCode code, std::string message) {
  failure_ = why;
  Teardown();
  Log(3, message);
  if (cb_.on_connected) cb_.on_connected(MakeError(code, std::move(message)));
}

void TlsConnection::Lost(std::string message) {
  failure_ = DialFailure::kLost;
  Teardown();
  if (cb_.on_closed)
    cb_.on_closed(MakeError(ErrorCode::kUnavailable,
                            "connection to the server " + ServerName() + " lost: " + message));
}

void TlsConnection::Close() {
  if (state_ == State::kOpen && tls_) {
    SSL_shutdown(tls_->ssl);  // best effort close_notify
    if (tls_->batching && tls_->CipherPending() > 0) {
      // The alert goes out now if the socket takes it; no callbacks from Close().
      [[maybe_unused]] ssize_t n = send(fd_, tls_->cipher.data() + tls_->cipher_off,
                                        tls_->CipherPending(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
  }
  Teardown();
}

void TlsConnection::Teardown() {
  state_ = State::kClosed;
  if (timer_) {
    loop_.CancelTimer(timer_);
    timer_ = 0;
  }
  if (watch_) {
    loop_.Unwatch(watch_);
    watch_ = 0;
  }
  tls_.reset();
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
}

}  // namespace kproxy
