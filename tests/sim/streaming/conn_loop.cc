#include "tests/sim/streaming/conn_loop.h"

#include <errno.h>

#include <vector>

namespace kproxy::sim::streaming {

namespace {
constexpr size_t kReadChunk = 64 * 1024;
}

ConnLoop::ConnLoop(Conn& conn, ServerTransport& transport) : conn_(conn), transport_(transport) {}

void ConnLoop::Watch(int fd, short events, Callback cb) {
  if (fd < 0) return;
  watchers_[fd] = Watcher{events, std::move(cb)};
}

void ConnLoop::SetEvents(int fd, short events) {
  auto it = watchers_.find(fd);
  if (it != watchers_.end()) it->second.events = events;
}

void ConnLoop::Unwatch(int fd) { watchers_.erase(fd); }

bool ConnLoop::Flush() {
  if (dead_) return false;
  std::string out = transport_.TakeOutput();
  if (out.empty()) return true;
  if (!conn_.WriteAll(out)) {
    dead_ = true;
    error_ = MakeError(ErrorCode::kUnavailable, "write to client failed");
    return false;
  }
  return true;
}

bool ConnLoop::ReadConn() {
  char buf[kReadChunk];
  ssize_t n = conn_.Read(buf, sizeof buf, 0);
  if (n == Conn::kTimeout) return true;
  if (n <= 0) {
    eof_ = true;
    dead_ = true;
    error_ = MakeError(ErrorCode::kUnavailable,
                       n == 0 ? "client closed the connection" : "read from client failed");
    return false;
  }
  Status st = transport_.Receive(std::string_view(buf, static_cast<size_t>(n)));
  if (!st.ok()) {
    Flush();  // the close frame / GOAWAY the transport queued
    dead_ = true;
    error_ = st;
    return false;
  }
  return true;
}

bool ConnLoop::RunOnce(int timeout_ms) {
  if (dead_) return false;
  if (!Flush()) return false;
  std::vector<pollfd> fds;
  fds.push_back(pollfd{conn_.fd(), static_cast<short>(paused_ ? 0 : POLLIN), 0});
  for (const auto& [fd, w] : watchers_) fds.push_back(pollfd{fd, w.events, 0});
  // TLS may hold decrypted bytes the socket no longer reports.
  bool buffered = !paused_ && conn_.HasBuffered();
  int r;
  do {
    r = poll(fds.data(), fds.size(), buffered ? 0 : timeout_ms);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    dead_ = true;
    error_ = MakeError(ErrorCode::kInternal, "poll failed");
    return false;
  }
  if (!paused_ && (buffered || (fds[0].revents & (POLLIN | POLLHUP | POLLERR)))) {
    if (!ReadConn()) return false;
  }
  for (size_t i = 1; i < fds.size(); ++i) {
    if (!fds[i].revents) continue;
    auto it = watchers_.find(fds[i].fd);
    if (it == watchers_.end()) continue;  // removed by an earlier callback this round
    Callback cb = it->second.cb;          // the callback may unregister itself
    cb(fds[i].revents);
    if (!Flush()) return false;
  }
  return Flush();
}

}  // namespace kproxy::sim::streaming
