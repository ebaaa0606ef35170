#include "tests/sim/server/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <exception>

#include "core/base/log.h"

namespace kproxy::sim {

namespace {

using Clock = std::chrono::steady_clock;

void SetSocketTimeouts(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

std::string PlainError(int status, const std::string& text) {
  HttpResponse r;
  r.status = status;
  r.close = true;
  r.body = text + "\n";
  r.Header("Content-Type", "text/plain; charset=utf-8");
  return SerializeHead(r, false) + r.body;
}

// An HTTP/2 front end answering an HTTP/1.1 client: its SETTINGS, then GOAWAY
// (PROTOCOL_ERROR) because the client preface never comes (RFC 9113 §3.4).
std::string H2Refusal() {
  std::string out;
  out.append("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);  // empty SETTINGS
  out.append("\x00\x00\x08\x07\x00\x00\x00\x00\x00", 9);  // GOAWAY, 8-byte payload
  out.append("\x00\x00\x00\x00\x00\x00\x00\x01", 8);      // last stream 0, PROTOCOL_ERROR
  return out;
}

}  // namespace

const char* ReasonPhrase(int status) {
  switch (status) {
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
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
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Request Entity Too Large";
    case 414:
      return "Request URI Too Long";
    case 422:
      return "Unprocessable Entity";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string SerializeHead(const HttpResponse& resp, bool chunked) {
  std::string out =
      "HTTP/1.1 " + std::to_string(resp.status) + " " + ReasonPhrase(resp.status) + "\r\n";
  for (const auto& [k, v] : resp.headers) out += k + ": " + v + "\r\n";
  if (chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  } else if (resp.status != 101 && resp.status != 204 && resp.status >= 200) {
    out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n";
  }
  if (resp.close) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

bool ChunkWriter::Write(std::string_view bytes) {
  if (bytes.empty()) return true;
  char size[32];
  auto [end, ec] = std::to_chars(size, size + sizeof size, bytes.size(), 16);
  (void)ec;
  std::string chunk(size, end);
  chunk += "\r\n";
  chunk.append(bytes);
  chunk += "\r\n";
  return conn_->WriteAll(chunk);
}

bool ChunkWriter::Cancelled() const {
  if (stop_ && stop_->load()) return true;
  pollfd p{conn_->fd(), POLLRDHUP, 0};
  return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

HttpServer::HttpServer(ServerOptions options, Handler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

HttpServer::~HttpServer() { Stop(); }

Result<int> HttpServer::Start() {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return MakeError(ErrorCode::kUnavailable, "socket failed");
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(options_.port));
  if (inet_pton(AF_INET, options_.bind.c_str(), &addr.sin_addr) != 1) {
    return MakeError(ErrorCode::kConfig, "bad bind address " + options_.bind);
  }
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
      listen(listen_fd_, 128) < 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "cannot listen on " + options_.bind + ":" + std::to_string(options_.port));
  }
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (pipe2(wake_pipe_, O_CLOEXEC) < 0) return MakeError(ErrorCode::kInternal, "pipe failed");
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  return port_;
}

void HttpServer::Stop() {
  if (listen_fd_ < 0) return;
  stopping_ = true;
  if (wake_pipe_[1] >= 0) (void)!write(wake_pipe_[1], "x", 1);
  if (accept_thread_.joinable()) accept_thread_.join();
  {
    std::unique_lock<std::mutex> lock(mu_);
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
    drained_.wait_for(lock, std::chrono::seconds(5), [this] { return active_.load() == 0; });
  }
  close(listen_fd_);
  listen_fd_ = -1;
  for (int& fd : wake_pipe_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
}

void HttpServer::AcceptLoop() {
  while (!stopping_) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (poll(p, 2, 1000) <= 0) continue;
    if (p[1].revents) break;
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (fd < 0) continue;
    if (active_.load() >= options_.max_connections) {
      close(fd);  // a flood: refuse rather than queue unbounded work
      continue;
    }
    char ip[INET_ADDRSTRLEN] = "";
    inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
    std::string peer_name = std::string(ip) + ":" + std::to_string(ntohs(peer.sin_port));
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_fds_.insert(fd);
      ++active_;
    }
    std::thread([this, fd, peer_name] {
      Serve(fd, peer_name);
      std::lock_guard<std::mutex> lock(mu_);
      --active_;
      drained_.notify_all();
    }).detach();
  }
}

void HttpServer::Serve(int fd, std::string peer) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  SetSocketTimeouts(fd, options_.handshake_timeout_ms);
  SSL* ssl = nullptr;
  if (options_.tls) {
    ssl = SSL_new(options_.tls);
    SSL_set_fd(ssl, fd);
  }
  {
    Conn conn(fd, ssl);
    bool ok = !ssl || SSL_accept(ssl) == 1;
    // Backstop for a TLS record that starts but never finishes; poll() bounds the rest.
    SetSocketTimeouts(fd, 30000);
    if (ok) {
      conn.set_drop_after(options_.faults.drop_after);
      conn.set_slow_reader(options_.faults.slow_reader);
      if (conn.alpn() == "h2") {
        conn.WriteAll(H2Refusal());
        conn.ShutdownWrite();
      } else {
        ServeHttp(conn, peer);
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.erase(fd);
  }  // Conn closes fd here, after it left open_fds_ (Stop never shuts a reused fd down).
}

void HttpServer::ServeHttp(Conn& conn, const std::string& peer) {
  std::string pending;
  char buf[16384];
  RequestContext ctx{conn.alpn(), peer};
  bool first = true;
  while (!stopping_) {
    RequestHeadParser parser(options_.limits);
    // Waiting for the next keep-alive request may take long; once it starts it must be quick.
    auto idle_deadline = Clock::now() + std::chrono::milliseconds(first ? options_.header_timeout_ms
                                                                        : options_.idle_timeout_ms);
    Clock::time_point head_deadline = Clock::time_point::max();
    first = false;
    while (parser.state() == RequestHeadParser::State::kNeedMore) {
      if (!pending.empty()) {
        if (head_deadline == Clock::time_point::max()) {
          head_deadline = Clock::now() + std::chrono::milliseconds(options_.header_timeout_ms);
        }
        size_t used = parser.Feed(pending);
        pending.erase(0, used);
        if (parser.state() != RequestHeadParser::State::kNeedMore) break;
      }
      auto deadline = std::min(idle_deadline, head_deadline);
      if (head_deadline != Clock::time_point::max()) deadline = head_deadline;
      ssize_t n = conn.Read(buf, sizeof buf, RemainingMs(deadline));
      if (n == Conn::kTimeout && RemainingMs(deadline) > 0) continue;
      if (n == Conn::kTimeout) {
        if (head_deadline != Clock::time_point::max()) {
          conn.WriteAll(PlainError(408, "request head not received in time"));
        }
        return;
      }
      if (n <= 0 || stopping_) return;
      pending.append(buf, n);
    }
    if (parser.state() == RequestHeadParser::State::kError) {
      conn.WriteAll(PlainError(parser.error_status(), parser.error()));
      conn.ShutdownWrite();
      return;
    }
    const HttpRequest& req = parser.request();
    if (req.HasHeader("transfer-encoding")) {
      // Nothing kubectl sends to an API server uses a chunked request body.
      conn.WriteAll(PlainError(501, "request Transfer-Encoding is not supported"));
      return;
    }
    size_t content_length = 0;
    if (req.HasHeader("content-length")) {
      std::vector<std::string> values = req.Headers("content-length");
      const std::string& v = values.front();
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), content_length);
      bool same = true;
      for (const std::string& other : values) same = same && other == v;
      if (ec != std::errc() || ptr != v.data() + v.size() || !same) {
        conn.WriteAll(PlainError(400, "malformed Content-Length"));
        return;
      }
      if (content_length > options_.max_body) {
        conn.WriteAll(PlainError(413, "request body too large"));
        return;
      }
    }
    auto body_deadline = Clock::now() + std::chrono::milliseconds(options_.header_timeout_ms);
    while (pending.size() < content_length) {
      ssize_t n = conn.Read(buf, sizeof buf, RemainingMs(body_deadline));
      if (n == Conn::kTimeout && RemainingMs(body_deadline) > 0) continue;
      if (n <= 0) return;
      pending.append(buf, n);
    }
    std::string body = pending.substr(0, content_length);
    pending.erase(0, content_length);

    HttpResponse resp;
    try {
      resp = handler_(req, body, ctx);
    } catch (const std::exception& e) {
      Log(1, std::string("sim: handler failed: ") + e.what());
      resp = HttpResponse{};
      resp.status = 500;
      resp.body = "internal error\n";
      resp.close = true;
    }
    if (options_.faults.delay_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(options_.faults.delay_ms));
    }
    if (resp.takeover) {
      resp.takeover(conn, std::move(pending));
      return;
    }
    bool keep_alive = !req.ConnectionHas("close") &&
                      (req.version == "HTTP/1.1" || req.ConnectionHas("keep-alive"));
    if (!keep_alive) resp.close = true;
    if (resp.streamer) {
      if (!conn.WriteAll(SerializeHead(resp, true))) return;
      ChunkWriter writer(&conn);
      writer.set_stop_flag(&stopping_);
      resp.streamer(writer);
      if (!conn.WriteAll("0\r\n\r\n")) return;
    } else {
      std::string out = SerializeHead(resp, false);
      if (req.method != "HEAD") out += resp.body;
      if (!conn.WriteAll(out)) return;
    }
    if (resp.close) {
      conn.ShutdownWrite();
      return;
    }
  }
}

}  // namespace kproxy::sim
