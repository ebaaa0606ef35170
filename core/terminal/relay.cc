#include "core/terminal/relay.h"

#include <limits.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
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

// The write strategy an fd allows: see Relay::WriteMode.
Relay::WriteMode ModeFor(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return Relay::WriteMode::kSmall;
  if (S_ISFIFO(st.st_mode)) return Relay::WriteMode::kNoWait;
  if (S_ISSOCK(st.st_mode)) return Relay::WriteMode::kSocket;
  return Relay::WriteMode::kSmall;
}

// A posted read of a regular-file stdin reads this many chunks before yielding to the loop.
constexpr int kFileReadsPerRound = 8;

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
      in_watch_ = loop_.Watch(options_.in_fd, true, false, [this](IoEvents) { OnStdinReadable(); });
    if (!in_watch_) {
      in_file_mode_ = true;
      ScheduleFileRead();
    }
  }
  for (Output* o : {&out_, &err_}) {
    if (o->fd < 0 || o->watch || o->direct) continue;
    o->mode = ModeFor(o->fd);
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
    // A regular file never blocks: several chunks per round, still stopping at the
    // transport's high-water mark, since each posted round costs a loop wake-up.
    for (int i = 0; i < kFileReadsPerRound && !input_ended_ && !input_paused_; ++i)
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
  if (!read_buf_) read_buf_ = std::make_unique<char[]>(options_.read_chunk);
  char* buf = read_buf_.get();
  ssize_t n = read(options_.in_fd, buf, options_.read_chunk);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    StopInput();
    if (cb_.on_input_eof) cb_.on_input_eof();
    return;
  }
  if (cb_.on_input) cb_.on_input(std::string_view(buf, static_cast<size_t>(n)));
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
  if (was_empty && o.watch && o.mode != WriteMode::kSmall) {
    // A pipe or socket takes what fits without blocking: write now and queue only the rest,
    // saving a poll round trip per batch. Errors surface through Flush() on POLLOUT.
    ssize_t n = WriteSome(o, bytes.data(), bytes.size());
    if (n > 0) bytes.remove_prefix(static_cast<size_t>(n));
    if (bytes.empty()) return;
  }
  o.buf.append(bytes);
  if (OutputBlocked()) was_blocked_ = true;
  if (was_empty && o.watch) loop_.SetInterest(o.watch, false, true);
}

ssize_t Relay::WriteSome(Output& o, const char* data, size_t len) {
  for (;;) {
    switch (o.mode) {
      case WriteMode::kNoWait: {
        // Linux >= 5.x honours RWF_NOWAIT on pipes: a partial write, or EAGAIN when full.
        iovec v{const_cast<char*>(data), len};
        ssize_t n = pwritev2(o.fd, &v, 1, -1, RWF_NOWAIT);
        if (n < 0 && (errno == EOPNOTSUPP || errno == EINVAL)) {
          o.mode = WriteMode::kSmall;  // an older kernel: fall back for good
          continue;
        }
        return n;
      }
      case WriteMode::kSocket: {
        ssize_t n = send(o.fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK) {
          o.mode = WriteMode::kSmall;
          continue;
        }
        return n;
      }
      case WriteMode::kSmall:
        // After POLLOUT a write of at most PIPE_BUF bytes does not block on a tty.
        return write(o.fd, data, std::min<size_t>(PIPE_BUF, len));
    }
  }
}

void Relay::Flush(Output& o) {
  // stdout may be a blocking fd shared with other processes, so O_NONBLOCK is not ours to
  // set: WriteSome() never blocks whatever the fd's flags (see WriteMode).
  for (int i = 0; i < 16 && o.off < o.buf.size(); ++i) {
    size_t len = o.buf.size() - o.off;
    ssize_t n = WriteSome(o, o.buf.data() + o.off, len);
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
    if (o.mode != WriteMode::kSmall) {
      if (static_cast<size_t>(n) < len) break;  // the pipe/socket is full
      continue;
    }
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
