// The poll loop that drives one upgraded connection in its takeover thread: socket bytes into
// the ServerTransport, its output back to the socket (full, blocking writes: a slow client
// slows only its own session), plus whatever other descriptors the session watches (process
// pipes, a pty master, port-forward sockets, an attach fan-out eventfd).
#pragma once

#include <poll.h>

#include <functional>
#include <map>
#include <string>

#include "core/base/result.h"
#include "tests/sim/server/conn.h"
#include "tests/sim/streaming/server_transport.h"

namespace kproxy::sim::streaming {

class ConnLoop {
 public:
  using Callback = std::function<void(short revents)>;
  ConnLoop(Conn& conn, ServerTransport& transport);

  // Watches `fd` for `events` (POLLIN/POLLOUT; 0 = registered but idle); replaces an earlier
  // registration. Callbacks may (un)register descriptors, including their own.
  void Watch(int fd, short events, Callback cb);
  void SetEvents(int fd, short events);
  void Unwatch(int fd);
  // Back-pressure: stop reading the client while the other side is congested.
  void PauseReads(bool paused) { paused_ = paused; }

  // One round: waits at most `timeout_ms` for the socket or a watched descriptor, feeds the
  // transport, runs callbacks, flushes output. Returns false once the connection is over
  // (peer EOF, socket error, write failure, fatal protocol error); error() says which.
  bool RunOnce(int timeout_ms);
  // Writes the transport's queued bytes to the socket; false when the write failed.
  bool Flush();
  // True after the client closed its side of the socket (EOF).
  bool eof() const { return eof_; }
  const Status& error() const { return error_; }

 private:
  struct Watcher {
    short events = 0;
    Callback cb;
  };
  bool ReadConn();

  Conn& conn_;
  ServerTransport& transport_;
  std::map<int, Watcher> watchers_;
  bool paused_ = false;
  bool eof_ = false;
  bool dead_ = false;
  Status error_;
};

}  // namespace kproxy::sim::streaming
