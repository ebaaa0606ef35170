// The one event loop of the process: fd watchers with read/write interest, timers, signals
// delivered through a self-pipe, deferred tasks. libwebsockets runs inside it (lws_context()).
//
// Why the wait is lws's poll(): the installed libwebsockets 4.1.6 is built without
// LWS_WITH_EXTERNAL_POLL, so ADD/DEL/CHANGE_MODE_POLL_FD never fire and lws's sockets cannot
// be put in a poll() set of ours. Instead our own watchers live in one epoll set whose fd is
// adopted into lws as a raw file; lws_service() is the single blocking wait of the process.
// See core/transport/ARCHITECTURE.md.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "core/base/result.h"

struct lws_context;
struct lws_vhost;

namespace kproxy {

// What poll reported for a watched fd.
struct IoEvents {
  bool readable = false;
  bool writable = false;
  bool hangup = false;  // POLLHUP/EPOLLRDHUP: peer closed; reads drain then return 0
  bool error = false;   // POLLERR
};

class EventLoop {
 public:
  using WatchId = uint64_t;
  using TimerId = uint64_t;
  using IoCallback = std::function<void(IoEvents)>;
  using Clock = std::chrono::steady_clock;

  // Creates the loop and its libwebsockets context (client TLS globally initialised).
  static Result<std::unique_ptr<EventLoop>> Create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Watches `fd` (not owned; the caller closes it after Unwatch). Level-triggered: `cb` runs
  // on every iteration while the fd is ready for an interest that is on. Returns 0 on failure.
  WatchId Watch(int fd, bool read, bool write, IoCallback cb);
  void SetInterest(WatchId id, bool read, bool write);
  // Safe to call from inside any callback, including the watcher's own.
  void Unwatch(WatchId id);

  // Runs `cb` once after `delay` (0 = on the next iteration). Safe from callbacks.
  TimerId AddTimer(std::chrono::milliseconds delay, std::function<void()> cb);
  void CancelTimer(TimerId id);
  // Runs `cb` on the next iteration, after the current callback returns.
  void Post(std::function<void()> cb) { AddTimer(std::chrono::milliseconds(0), std::move(cb)); }

  // Installs a handler for `signo` that only records it in the self-pipe; `cb` then runs on
  // the loop. One callback per signal; a second call replaces it. Restores the previous
  // disposition on UnwatchSignal or destruction.
  Status WatchSignal(int signo, std::function<void(int)> cb);
  void UnwatchSignal(int signo);

  // Runs until Stop(). Returns immediately if Stop() was already called since the last run.
  void Run();
  // Runs until `done()` is true (checked after every iteration) or `timeout` ran out.
  // Returns done().
  bool RunUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  void Stop() { stop_ = true; }

  Clock::time_point Now() const { return Clock::now(); }

  // The libwebsockets context every lws connection of the process is created in.
  lws_context* lws() const { return ctx_; }

  // Internal: called from the lws callback when the epoll fd is readable / the timer fires.
  void DispatchIo();
  void DispatchTimers();

 private:
  EventLoop() = default;
  Status Init();
  void ScheduleTimerWake();
  void DrainSignals();
  void ServiceOnce();

  struct Watcher {
    int fd = -1;
    bool read = false;
    bool write = false;
    IoCallback cb;
  };
  struct Timer {
    Clock::time_point due;
    std::function<void()> cb;
  };
  struct SignalEntry {
    std::function<void(int)> cb;
    struct sigaction* previous = nullptr;
  };

  lws_context* ctx_ = nullptr;
  int epoll_fd_ = -1;
  int sig_pipe_[2] = {-1, -1};
  WatchId sig_watch_ = 0;
  bool stop_ = false;
  uint64_t next_id_ = 1;
  std::map<WatchId, Watcher> watchers_;
  std::map<TimerId, Timer> timers_;
  std::map<int, SignalEntry> signals_;
  struct SulBox;
  std::unique_ptr<SulBox> sul_;
};

}  // namespace kproxy
