#include "core/terminal/relay.h"

#include <limits.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/terminal/tty.h"

namespace kproxy {
namespace {

// Regular files and some character devices (/dev/null) cannot be put in an epoll set: such
// descriptors are always ready, so the relay reads and writes them without the loop.
bool CanPoll(int fd) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return false;
  epoll_event ev{};
  ev.events = EPOLLIN;
  bool ok = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
  close(ep);
  return ok;
}

}  // namespace

Relay::Relay(EventLoop& loop, RelayOptions options, RelayCallbacks callbacks)
    : loop_(loop), options_(options), cb_(std::move(callbacks)) {
  out_.fd = options_.out_fd;
  err_.fd = options_.err_fd;
}

Relay::~Relay() {
  *alive_ = false;
  if (in_watch_) loop_.Unwatch(in_watch_);
  if (out_.watch) loop_.Unwatch(out_.watch);
  if (err_.watch) loop_.Unwatch(err_.watch);
}

void Relay::Start() {
  if (options_.in_fd >= 0 && !in_watch_ && !input_ended_ && !in_file_mode_) {
    if (CanPoll(options_.in_fd))
      in_watch_ =
          loop_.Watch(options_.in_fd, true, false, [this](IoEvents) { OnStdinReadable(); });
    if (!in_watch_) {
      in_file_mode_ = true;
      ScheduleFileRead();
    }
  }
  for (Output* o : {&out_, &err_}) {
    if (o->fd < 0 || o->watch || o->direct) continue;
    if (CanPoll(o->fd))
      o->watch =
          loop_.Watch(o->fd, false, o->buf.size() > o->off, [this, o](IoEvents) { Flush(*o); });
    if (!o->watch) {
      // A regular file: always "writable", and epoll refuses it. Write through.
      o->direct = true;
      std::string pending = o->buf.substr(o->off);
      o->buf.clear();
      o->off = 0;
      Queue(*o, pending);
    }
  }
  UpdateInputInterest();
}

void Relay::ScheduleFileRead() {
  if (!in_file_mode_ || input_ended_ || input_paused_ || file_read_scheduled_) return;
  file_read_scheduled_ = true;
  auto alive = alive_;
  loop_.Post([this, alive] {
    if (!*alive) return;
    file_read_scheduled_ = false;
    if (input_ended_ || input_paused_) return;
    OnStdinReadable();
    ScheduleFileRead();
  });
}

void Relay::StopInput() {
  input_ended_ = true;
  if (in_watch_) {
    loop_.Unwatch(in_watch_);
    in_watch_ = 0;
  }
}

void Relay::UpdateInputInterest() {
  if (!in_watch_ && !in_file_mode_) return;
  size_t queued = cb_.transport_buffered ? cb_.transport_buffered() : 0;
  bool pause = queued > options_.high_water;
  if (pause != input_paused_) {
    input_paused_ = pause;
    if (in_watch_) loop_.SetInterest(in_watch_, !pause, false);
  }
  if (in_file_mode_) ScheduleFileRead();
}

void Relay::ResumeCheck() { UpdateInputInterest(); }

void Relay::OnStdinReadable() {
  std::vector<char> buf(options_.read_chunk);
  ssize_t n = read(options_.in_fd, buf.data(), buf.size());
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    StopInput();
    if (cb_.on_input_eof) cb_.on_input_eof();
    return;
  }
  if (cb_.on_input) cb_.on_input(std::string_view(buf.data(), static_cast<size_t>(n)));
  UpdateInputInterest();
}

void Relay::Queue(Output& o, std::string_view bytes) {
  if (o.fd < 0 || o.failed || bytes.empty()) return;
  if (o.direct) {
    Status s = WriteFull(o.fd, bytes);
    if (!s.ok()) {
      o.failed = true;
      if (cb_.on_output_error) cb_.on_output_error(s.error());
    }
    return;
  }
  bool was_empty = o.buf.size() == o.off;
  o.buf.append(bytes);
  if (OutputBlocked()) was_blocked_ = true;
  if (was_empty && o.watch) loop_.SetInterest(o.watch, false, true);
}

void Relay::Flush(Output& o) {
  // stdout may be a blocking fd shared with other processes, so O_NONBLOCK is not ours to
  // set; after POLLOUT a write of at most PIPE_BUF bytes does not block on pipes and ttys.
  for (int i = 0; i < 16 && o.off < o.buf.size(); ++i) {
    size_t len = std::min<size_t>(PIPE_BUF, o.buf.size() - o.off);
    ssize_t n = write(o.fd, o.buf.data() + o.off, len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    if (n <= 0) {
      o.failed = true;
      o.buf.clear();
      o.off = 0;
      loop_.SetInterest(o.watch, false, false);
      if (cb_.on_output_error)
        cb_.on_output_error(
            MakeError(ErrorCode::kUnavailable,
                      std::string("writing output failed: ") + std::strerror(errno)));
      return;
    }
    o.off += static_cast<size_t>(n);
    struct pollfd p {
      o.fd, POLLOUT, 0
    };
    if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT)) break;
  }
  if (o.off == o.buf.size()) {
    o.buf.clear();
    o.off = 0;
    loop_.SetInterest(o.watch, false, false);
  } else if (o.off > 64 * 1024) {
    o.buf.erase(0, o.off);
    o.off = 0;
  }
  if (was_blocked_ && !OutputBlocked()) {
    was_blocked_ = false;
    if (cb_.on_output_drained) cb_.on_output_drained();
  }
}

}  // namespace kproxy
