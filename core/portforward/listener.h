// Local side of port-forward: kubectl's "[LOCAL:]REMOTE" port arguments, its --address rules
// (client-go tools/portforward parseAddresses/listenOnPort), and non-blocking TCP listeners in
// the event loop that hand each accepted socket to the forwarder.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/transport/event_loop.h"

namespace kproxy::portforward {

// One "[LOCAL:]REMOTE" argument. `remote` may still be a port name ("http") until resolved
// against the pod; `local` 0 means "pick a random port" (":REMOTE"). `local_from_remote`: no
// LOCAL was given, so the local port is the (resolved) remote port.
struct PortSpec {
  uint16_t local = 0;
  std::string remote;
  bool local_from_remote = false;
};

// "8888:5000" → {8888,"5000"}; ":5000" → {0,"5000"}; "5000" → {5000,"5000"}; "http" →
// {0,"http",local_from_remote}. kUsage errors with kubectl's wording for bad numbers.
Result<PortSpec> ParsePortSpec(const std::string& arg);

// One address to listen on. `all_must_fail`: the entry came from "localhost" (the forward
// fails only when every localhost address failed); an explicit IP failing fails the forward.
struct ListenAddress {
  std::string ip;  // "127.0.0.1", "::1", "0.0.0.0"
  bool v6 = false;
  bool all_must_fail = false;
};

// --address values (repeated and/or comma-separated) → addresses. "localhost" expands to
// 127.0.0.1 and ::1; anything else must be an IP literal ("X is not a valid IP").
Result<std::vector<ListenAddress>> ParseAddresses(const std::vector<std::string>& values);

// "127.0.0.1:8888" / "[::1]:8888" (Go's net.JoinHostPort).
std::string JoinHostPort(const std::string& ip, uint16_t port);

// A bound, listening, non-blocking socket watched by the loop; calls `on_accept` with each new
// non-blocking connection fd (ownership passes to the callee).
class Listener {
 public:
  using AcceptFn = std::function<void(int fd)>;
  // Binds `address`:`port` (0 = random). kUnavailable with the OS reason on failure.
  static Result<std::unique_ptr<Listener>> Open(EventLoop& loop, const ListenAddress& address,
                                                uint16_t port, AcceptFn on_accept);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  uint16_t port() const { return port_; }
  const ListenAddress& address() const { return address_; }

 private:
  Listener(EventLoop& loop, int fd, ListenAddress address, uint16_t port, AcceptFn on_accept);
  void OnReadable();

  EventLoop& loop_;
  int fd_;
  ListenAddress address_;
  uint16_t port_;
  AcceptFn on_accept_;
  EventLoop::WatchId watch_ = 0;
};

// Listens on every address for one local port, with kubectl's failure rules. A random port
// (0) is chosen by the first successful bind and reused for the other addresses. Returns the
// listeners (at least one) or "unable to listen on port N: [reasons]".
Result<std::vector<std::unique_ptr<Listener>>> ListenOnPort(
    EventLoop& loop, const std::vector<ListenAddress>& addresses, uint16_t port,
    const Listener::AcceptFn& on_accept);

}  // namespace kproxy::portforward
