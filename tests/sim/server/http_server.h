// The simulator's HTTPS server: a thread per connection (see below), TLS with ALPN, HTTP/1.1
// keep-alive, bounded heads and bodies, idle timeouts and a connection cap.
//
// Why a thread per connection rather than one poll() loop: every connection here is short
// (API calls) or becomes a long-lived upgraded stream that the streaming layer drives itself.
// Handing the upgraded connection to its own thread lets the upgrade hook run plain blocking
// code (or its own loop) without any state shared with other connections, and a stalled peer
// can only ever stall its own thread. The cap (max_connections) bounds the thread count.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/base/result.h"
#include "tests/sim/faults.h"
#include "tests/sim/server/conn.h"
#include "tests/sim/server/http_request.h"

namespace kproxy::sim {

// Writes a chunked response body piece by piece (pods/log?follow=true).
class ChunkWriter {
 public:
  explicit ChunkWriter(Conn* conn) : conn_(conn) {}
  // Sends one chunk; false when the client went away.
  bool Write(std::string_view bytes);
  // True once the server is stopping or the client closed; streamers should return then.
  bool Cancelled() const;
  void set_stop_flag(const std::atomic<bool>* stop) { stop_ = stop; }

 private:
  Conn* conn_;
  const std::atomic<bool>* stop_ = nullptr;
};

// Receives the connection after the handler chose to take it over (an upgrade), plus the bytes
// already read past the request head and body. The hook writes the 101 (or an error) itself
// and owns the connection until it returns; the server then closes it.
using TakeoverFn = std::function<void(Conn& conn, std::string already_read)>;

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool close = false;  // send Connection: close and close afterwards
  // When set, the body is streamed with chunked encoding instead of `body`.
  std::function<void(ChunkWriter&)> streamer;
  // When set, nothing is written by the server: the hook takes the connection over.
  TakeoverFn takeover;

  HttpResponse& Header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// Per-request facts a handler may need beyond the request itself.
struct RequestContext {
  std::string alpn;
  std::string peer;  // "127.0.0.1:54321"
};

using Handler = std::function<HttpResponse(const HttpRequest& req, const std::string& body,
                                           const RequestContext& ctx)>;

struct ServerOptions {
  std::string bind = "127.0.0.1";
  int port = 0;            // 0: any free port
  SSL_CTX* tls = nullptr;  // null: plain HTTP (tests only); not owned
  size_t max_connections = 256;
  int handshake_timeout_ms = 10000;
  int header_timeout_ms = 10000;  // slowloris bound: the whole head must arrive in this time
  int idle_timeout_ms = 60000;    // keep-alive idle bound
  size_t max_body = 1 << 20;
  RequestLimits limits;
  Faults faults;  // drop-after, delay, slow-reader, h2-only apply here
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens, starts the accept thread; returns the port.
  Result<int> Start();
  // Stops accepting, shuts every open connection down and waits (bounded) for their threads.
  void Stop();
  int port() const { return port_; }
  size_t active_connections() const { return active_.load(); }

 private:
  void AcceptLoop();
  void Serve(int fd, std::string peer);
  void ServeHttp(Conn& conn, const std::string& peer);

  ServerOptions options_;
  Handler handler_;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  int port_ = 0;
  std::thread accept_thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> active_{0};
  std::mutex mu_;
  std::condition_variable drained_;
  std::set<int> open_fds_;
};

// Standard reason phrase for a status code.
const char* ReasonPhrase(int status);
// Serializes a response head (status line, headers, Content-Length unless chunked/101).
std::string SerializeHead(const HttpResponse& resp, bool chunked);

}  // namespace kproxy::sim
