#include "tests/sim/server/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace kproxy::sim {

Conn::Conn(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}

Conn::~Conn() {
  if (ssl_) SSL_free(ssl_);
  if (fd_ >= 0) close(fd_);
}

std::string Conn::alpn() const {
  if (!ssl_) return "";
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_, &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

bool Conn::HasBuffered() const { return ssl_ && SSL_pending(ssl_) > 0; }

ssize_t Conn::Read(char* buf, size_t n, int timeout_ms) {
  if (n == 0) return 0;
  if (slow_reader_) {
    // A slow consumer: small reads with pauses, so the peer's buffers fill up.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    n = std::min<size_t>(n, 512);
  }
  if (!HasBuffered()) {
    pollfd p{fd_, POLLIN, 0};
    int r;
    do {
      r = poll(&p, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r == 0) return kTimeout;
    if (r < 0) return -1;
  }
  if (!ssl_) {
    ssize_t r;
    do {
      r = recv(fd_, buf, n, 0);
    } while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : r;
  }
  ERR_clear_error();
  int r = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(n, 1 << 30)));
  if (r > 0) return r;
  int err = SSL_get_error(ssl_, r);
  if (err == SSL_ERROR_ZERO_RETURN) return 0;
  // A TLS record that only carried a post-handshake message (session ticket): nothing yet.
  if (err == SSL_ERROR_WANT_READ) return kTimeout;
  // Peers that close without close_notify (kubectl does) read as a plain end of stream.
  if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_SSL) return ERR_peek_error() == 0 ? 0 : -1;
  return -1;
}

bool Conn::WriteAll(std::string_view bytes) {
  if (dropped_) return false;
  bool drop_now = false;
  if (drop_after_ > 0 && written_ + bytes.size() >= drop_after_) {
    bytes = bytes.substr(0, drop_after_ - written_);
    drop_now = true;
  }
  while (!bytes.empty()) {
    ssize_t r;
    if (ssl_) {
      ERR_clear_error();
      int w =
          SSL_write(ssl_, bytes.data(), static_cast<int>(std::min<size_t>(bytes.size(), 1 << 30)));
      r = w > 0 ? w : -1;
    } else {
      do {
        r = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      } while (r < 0 && errno == EINTR);
    }
    if (r <= 0) return false;
    written_ += r;
    bytes.remove_prefix(r);
  }
  if (drop_now) {
    // The fault: the connection vanishes mid-response, without a TLS close_notify.
    dropped_ = true;
    shutdown(fd_, SHUT_RDWR);
    return false;
  }
  return true;
}

void Conn::ShutdownWrite() {
  if (ssl_ && !dropped_) SSL_shutdown(ssl_);
  shutdown(fd_, SHUT_WR);
}

int DialTcp(const std::string& host, int port, int timeout_ms) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string h = host == "localhost" ? "127.0.0.1" : host;
  if (inet_pton(AF_INET, h.c_str(), &addr.sin_addr) != 1) return -1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  int r = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (r < 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, timeout_ms) != 1) {
      close(fd);
      return -1;
    }
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    r = err == 0 ? 0 : -1;
  }
  if (r < 0) {
    close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace kproxy::sim
