#include "auth/loopback_callback.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "auth/callback_request.h"
#include "auth/route_url.h"
#include "core/base/log.h"

namespace kproxy::auth {
namespace {

// Browsers pre-connect idle sockets; serve several at once, but never an unbounded number.
constexpr size_t kMaxConnections = 16;

struct Conn {
  int fd;
  CallbackRequestParser parser;
};

void SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the browser went away; nothing to do
    off += static_cast<size_t>(n);
  }
}

void Respond(int fd, int status, const char* reason, const std::string& body) {
  std::string resp = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                     "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " +
                     std::to_string(body.size()) +
                     "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n" + body;
  SendAll(fd, resp);
}

// Returns the JWT when the request is the expected callback, "" otherwise.
std::string CheckCallback(const CallbackRequestParser& p, const std::string& path,
                          const std::string& state) {
  if (p.method() != "GET") return "";
  std::string req_path, query;
  SplitTarget(p.target(), &req_path, &query);
  if (req_path != path) return "";
  auto params = ParseQuery(query);
  if (!params) return "";
  std::string got_state, jwt;
  int states = 0, jwts = 0;
  for (const auto& [k, v] : *params) {
    if (k == "state") got_state = v, ++states;
    if (k == "pomerium_jwt") jwt = v, ++jwts;
  }
  // Exactly one of each: a second "state" could smuggle a forged value past a lax check.
  if (states != 1 || jwts != 1 || got_state != state || jwt.empty()) return "";
  return jwt;
}

}  // namespace

Result<LoopbackCallbackServer> LoopbackCallbackServer::Open() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return MakeError(ErrorCode::kUnavailable, std::string("socket: ") + strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // loopback only, never 0.0.0.0
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::string why = strerror(errno);
    ::close(fd);
    return MakeError(ErrorCode::kUnavailable, "cannot listen on 127.0.0.1: " + why);
  }
  return LoopbackCallbackServer(fd, ntohs(addr.sin_port));
}

LoopbackCallbackServer::LoopbackCallbackServer(LoopbackCallbackServer&& other) noexcept
    : fd_(other.fd_), port_(other.port_) {
  other.fd_ = -1;
}

LoopbackCallbackServer::~LoopbackCallbackServer() { Close(); }

void LoopbackCallbackServer::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<std::string> LoopbackCallbackServer::WaitForToken(
    const std::string& path, const std::string& state,
    std::chrono::steady_clock::time_point deadline, const std::atomic<bool>* cancel) {
  if (fd_ < 0) return MakeError(ErrorCode::kInternal, "callback listener is closed");
  std::vector<std::unique_ptr<Conn>> conns;
  auto close_all = [&] {
    for (auto& c : conns) ::close(c->fd);
    conns.clear();
  };
  while (true) {
    if (cancel != nullptr && cancel->load()) {
      close_all();
      Close();
      return MakeError(ErrorCode::kCancelled, "sign-in cancelled");
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      close_all();
      Close();
      return MakeError(ErrorCode::kTimeout, "timed out waiting for the sign-in to complete");
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    std::vector<pollfd> fds;
    fds.push_back({fd_, POLLIN, 0});
    for (auto& c : conns) fds.push_back({c->fd, POLLIN, 0});
    int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long>(left, 100)));
    if (n < 0 && errno != EINTR) {
      close_all();
      Close();
      return MakeError(ErrorCode::kUnavailable, std::string("poll: ") + strerror(errno));
    }
    if (n <= 0) continue;
    // Read from existing connections (walk backwards so erasing keeps indexes valid).
    for (size_t i = conns.size(); i-- > 0;) {
      if (fds[i + 1].revents == 0) continue;
      Conn& c = *conns[i];
      char buf[4096];
      ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r <= 0) {
        ::close(c.fd);
        conns.erase(conns.begin() + static_cast<long>(i));
        continue;
      }
      auto st = c.parser.Feed(std::string_view(buf, static_cast<size_t>(r)));
      if (st == CallbackRequestParser::State::kReading) continue;
      std::string jwt;
      if (st == CallbackRequestParser::State::kDone) jwt = CheckCallback(c.parser, path, state);
      if (!jwt.empty()) {
        RegisterSecret(jwt);
        Respond(c.fd, 200, "OK",
                "<!doctype html><title>kproxy</title><p>Login complete. You may close this "
                "page and return to your terminal.</p>\n");
        close_all();
        Close();
        return jwt;
      }
      Log(2, "refused a request on the sign-in callback listener");
      Respond(c.fd, 400, "Bad Request",
              "<!doctype html><title>kproxy</title><p>Bad request: this is not the sign-in "
              "callback kproxy is waiting for.</p>\n");
      ::close(c.fd);
      conns.erase(conns.begin() + static_cast<long>(i));
    }
    if (fds[0].revents & POLLIN) {
      int cfd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (cfd >= 0) {
        if (conns.size() >= kMaxConnections) {
          // Drop the oldest (likely an idle pre-connect) to make room.
          ::close(conns.front()->fd);
          conns.erase(conns.begin());
        }
        conns.push_back(std::make_unique<Conn>(Conn{cfd, {}}));
      }
    }
  }
}

}  // namespace kproxy::auth
