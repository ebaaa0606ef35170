// One accepted (or dialled) connection: a socket with optional TLS, bounded blocking reads and
// full writes. Owned by exactly one thread; an upgrade hook receives it to take over the stream.
#pragma once

#include <openssl/ssl.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace kproxy::sim {

class Conn {
 public:
  // Takes ownership of `fd` and `ssl` (which may be null for plain TCP).
  Conn(int fd, SSL* ssl);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  static constexpr ssize_t kTimeout = -2;
  // Reads up to `n` bytes, waiting at most `timeout_ms` (-1: forever). Returns the byte count,
  // 0 at end of stream, -1 on error, kTimeout when nothing arrived in time.
  ssize_t Read(char* buf, size_t n, int timeout_ms);
  // Writes everything (blocking); false when the peer is gone or the drop-after budget ran out.
  bool WriteAll(std::string_view bytes);
  // True when TLS holds decrypted bytes a poll() on fd() would not report.
  bool HasBuffered() const;
  // Sends close_notify (TLS) and shuts the socket down for writing.
  void ShutdownWrite();

  int fd() const { return fd_; }
  SSL* ssl() const { return ssl_; }
  std::string alpn() const;

  // Fault hooks: drop the connection after this many bytes written (0 = never); read slowly.
  void set_drop_after(uint64_t bytes) { drop_after_ = bytes; }
  void set_slow_reader(bool slow) { slow_reader_ = slow; }

 private:
  int fd_;
  SSL* ssl_;
  uint64_t written_ = 0;
  uint64_t drop_after_ = 0;
  bool slow_reader_ = false;
  bool dropped_ = false;
};

// Dials 127.0.0.1-style `host`:`port` with a bounded connect. Returns the fd or -1.
int DialTcp(const std::string& host, int port, int timeout_ms);

}  // namespace kproxy::sim
