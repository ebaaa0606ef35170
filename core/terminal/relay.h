// Moves bytes between the local stdin/stdout/stderr fds and a transport, on the event loop,
// with back-pressure both ways:
//  - stdin is read only while the transport's queue (transport_buffered()) is at or below
//    the high-water mark; call ResumeCheck() when the transport drained to restart reading;
//  - output is queued and written as the fd becomes writable; OutputBlocked() tells the
//    caller to stop taking bytes from the transport until on_output_drained runs.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/base/result.h"
#include "core/transport/event_loop.h"

namespace kproxy {

struct RelayOptions {
  int in_fd = -1;   // -1: no stdin relay
  int out_fd = -1;  // -1: no stdout
  int err_fd = -1;  // -1: no stderr
  size_t high_water = 256 * 1024;
  // stdin read size: as large as kubectl's 32 KiB and more, so each read becomes one frame.
  size_t read_chunk = 64 * 1024;
};

struct RelayCallbacks {
  std::function<void(std::string_view)> on_input;  // bytes read from stdin
  std::function<void()> on_input_eof;              // stdin reached EOF (or failed)
  std::function<size_t()> transport_buffered;      // bytes queued toward the peer
  std::function<void()> on_output_drained;         // output fell back below high water
  std::function<void(Error)> on_output_error;      // EPIPE/EIO on stdout or stderr
};

class Relay {
 public:
  Relay(EventLoop& loop, RelayOptions options, RelayCallbacks callbacks);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Starts watching the fds.
  void Start();
  // Stops reading stdin (e.g. after the remote side ended); output still drains.
  void StopInput();
  // Queues output for stdout / stderr; consumed, never blocks.
  void WriteOut(std::string_view bytes) { Queue(out_, bytes); }
  void WriteErr(std::string_view bytes) { Queue(err_, bytes); }
  // Re-evaluates the stdin back-pressure against transport_buffered().
  void ResumeCheck();

  size_t PendingOutput() const {
    return (out_.buf.size() - out_.off) + (err_.buf.size() - err_.off);
  }
  bool OutputBlocked() const { return PendingOutput() > options_.high_water; }
  bool InputPaused() const { return input_paused_; }
  bool InputEnded() const { return input_ended_; }

  // How an output fd is written without ever blocking the loop (we may not set O_NONBLOCK):
  //  kNoWait: a pipe: pwritev2(RWF_NOWAIT) writes as much as fits, EAGAIN when full;
  //  kSocket: send(MSG_DONTWAIT), the same per call;
  //  kSmall:  anything else (a tty): at most PIPE_BUF per write after POLLOUT.
  enum class WriteMode { kNoWait, kSocket, kSmall };

 private:
  struct Output {
    int fd = -1;
    EventLoop::WatchId watch = 0;
    WriteMode mode = WriteMode::kSmall;
    bool direct = false;  // a regular file (epoll cannot watch it): written at once
    std::string buf;
    size_t off = 0;  // bytes of buf already written
    bool failed = false;
  };
  void Queue(Output& o, std::string_view bytes);
  void Flush(Output& o);
  // One non-blocking write of up to `len` bytes; -1 with errno as write(2).
  ssize_t WriteSome(Output& o, const char* data, size_t len);
  void OnStdinReadable();
  void UpdateInputInterest();
  void ScheduleFileRead();

  EventLoop& loop_;
  RelayOptions options_;
  RelayCallbacks cb_;
  EventLoop::WatchId in_watch_ = 0;
  // stdin is a regular file (`< file`): epoll cannot watch it, so reads are posted to the
  // loop one chunk at a time, still paused by the transport's back-pressure.
  bool in_file_mode_ = false;
  bool file_read_scheduled_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool input_paused_ = false;
  bool input_ended_ = false;
  bool was_blocked_ = false;
  Output out_, err_;
  std::unique_ptr<char[]> read_buf_;  // read_chunk bytes, allocated once
};

}  // namespace kproxy
