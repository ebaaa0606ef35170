// Plain blocking TCP on 127.0.0.1 for e2e tests: the "container port" servers behind a
// port-forward and the clients that talk through it. Every read and write is bounded by a
// socket timeout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace kproxy::test {

// A listening socket on 127.0.0.1:0; sets `port` to the bound port. -1 on failure.
int ListenOnLoopback(uint16_t* port, int backlog = 128);
// A connected socket to 127.0.0.1:port with `timeout_s` on reads and writes; -1 on failure.
int ConnectLoopback(uint16_t port, int timeout_s = 30);
// Writes all of p[0, n); false when the peer went away (no SIGPIPE).
bool SendAll(int fd, const char* p, size_t n);
inline bool SendAll(int fd, const std::string& s) { return SendAll(fd, s.data(), s.size()); }
// Reads until the peer closes (or the socket timeout).
std::string ReadToEof(int fd);
// Reads one line, without its '\n'.
std::string ReadLine(int fd);
// Connects, reads until the peer closes (bounded by `timeout_s`), closes; "" when refused.
std::string ReadFromPort(uint16_t port, int timeout_s = 10);

}  // namespace kproxy::test
