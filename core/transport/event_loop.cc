#include "core/transport/event_loop.h"

#include <fcntl.h>
#include <libwebsockets.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "core/base/log.h"

namespace kproxy {
namespace {

// The self-pipe write end for signal handlers. One loop per process (mosh's rule), so a
// process-wide slot is the honest representation.
volatile sig_atomic_t g_sig_write_fd = -1;
EventLoop* g_loop = nullptr;

void RecordSignal(int signo) {
  int saved = errno;
  if (g_sig_write_fd >= 0) {
    unsigned char b = static_cast<unsigned char>(signo);
    // A full pipe only loses duplicates of signals already pending: fine.
    [[maybe_unused]] ssize_t n = write(g_sig_write_fd, &b, 1);
  }
  errno = saved;
}

void LwsLog(int level, const char* line) {
  std::string s(line);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  Log(level == LLL_ERR ? 4 : 6, "lws: " + s);
}

int LoopProtocolCallback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                         size_t len) {
  auto* loop = static_cast<EventLoop*>(lws_context_user(lws_get_context(wsi)));
  switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
      if (loop) loop->DispatchIo();
      return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
    case LWS_CALLBACK_RAW_ADOPT_FILE:
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

const lws_protocols kLoopProtocols[] = {
    {"kproxy-loop", LoopProtocolCallback, 0, 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

// Connections libwebsockets itself may hold at once (WebSocket sessions and port-forward
// tunnels; our own sockets live in the epoll set, not in lws's table). 1024 is also the
// usual soft fd limit, i.e. what lws gets on most hosts anyway.
constexpr unsigned kLwsFdLimit = 1024;

uint32_t EpollMask(bool read, bool write) {
  uint32_t m = 0;
  if (read) m |= EPOLLIN | EPOLLRDHUP;
  if (write) m |= EPOLLOUT;
  return m;
}

}  // namespace

struct EventLoop::SulBox {
  lws_sorted_usec_list_t sul;  // first member: lws hands back this pointer
  EventLoop* loop = nullptr;
};

Result<std::unique_ptr<EventLoop>> EventLoop::Create() {
  if (g_loop)
    return MakeError(ErrorCode::kInternal, "an event loop already exists in this process");
  std::unique_ptr<EventLoop> loop(new EventLoop());
  Status st = loop->Init();
  if (!st.ok()) return st.error();
  return loop;
}

Status EventLoop::Init() {
  signal(SIGPIPE, SIG_IGN);  // broken sockets and pipes surface as EPIPE, never kill us
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return MakeError(ErrorCode::kInternal, "epoll_create1 failed");
  if (pipe2(sig_pipe_, O_CLOEXEC | O_NONBLOCK) != 0)
    return MakeError(ErrorCode::kInternal, "pipe2 failed for the signal self-pipe");

  lws_set_log_level(Verbosity() >= 6 ? (LLL_ERR | LLL_WARN | LLL_NOTICE) : LLL_ERR, LwsLog);
  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = kLoopProtocols;
  // TLS is initialised once here (the library, for every WebSocket client's vhost). The
  // loop's own vhost is created explicitly below WITHOUT DO_SSL_GLOBAL_INIT in its options:
  // with it, lws builds a client SSL_CTX for that vhost (SSL_CTX_new and its OpenSSL 3
  // algorithm fetches, ~1 ms of every start) that nothing ever uses — each WebSocket client
  // brings its own SSL_CTX (ws_client_tls) and the loop vhost only carries the epoll fd.
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS |
                 LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  info.user = this;
  // lws sizes its poll table by the fd limit (20000 on some hosts: 160 KiB written at
  // start); it only ever holds the loop's epoll fd and the WebSocket connections.
  struct rlimit nofile {};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur > kLwsFdLimit)
    info.fd_limit_per_thread = kLwsFdLimit;
  ctx_ = lws_create_context(&info);
  if (!ctx_) return MakeError(ErrorCode::kInternal, "lws_create_context failed");
  lws_context_creation_info vinfo;
  std::memset(&vinfo, 0, sizeof vinfo);
  vinfo.port = CONTEXT_PORT_NO_LISTEN;
  vinfo.protocols = kLoopProtocols;
  vinfo.vhost_name = "kproxy-loop";
  if (!lws_create_vhost(ctx_, &vinfo))
    return MakeError(ErrorCode::kInternal, "lws could not create the loop's vhost");

  // lws closes adopted descriptors itself, so it gets its own dup of the epoll fd.
  int adopted = fcntl(epoll_fd_, F_DUPFD_CLOEXEC, 0);
  lws_sock_file_fd_type fdt;
  fdt.filefd = adopted;
  if (!lws_adopt_descriptor_vhost(lws_get_vhost_by_name(ctx_, "kproxy-loop"),
                                  LWS_ADOPT_RAW_FILE_DESC, fdt, "kproxy-loop", nullptr)) {
    close(adopted);
    return MakeError(ErrorCode::kInternal, "lws could not adopt the loop's epoll fd");
  }
  sul_ = std::make_unique<SulBox>();
  std::memset(&sul_->sul, 0, sizeof sul_->sul);
  sul_->loop = this;

  sig_watch_ = Watch(sig_pipe_[0], true, false, [this](IoEvents) { DrainSignals(); });
  g_sig_write_fd = sig_pipe_[1];
  g_loop = this;
  return Status::Ok();
}

EventLoop::~EventLoop() {
  while (!signals_.empty()) UnwatchSignal(signals_.begin()->first);
  if (g_loop == this) {
    g_loop = nullptr;
    g_sig_write_fd = -1;
  }
  if (ctx_) {
    lws_sul_schedule(ctx_, 0, &sul_->sul, nullptr, LWS_SET_TIMER_USEC_CANCEL);
    lws_context_destroy(ctx_);
  }
  for (auto& [id, w] : watchers_) close(w.fd);
  if (epoll_fd_ >= 0) close(epoll_fd_);
  for (int fd : sig_pipe_)
    if (fd >= 0) close(fd);
}

EventLoop::WatchId EventLoop::Watch(int fd, bool read, bool write, IoCallback cb) {
  // epoll refuses the same fd twice (stdin and stdout are often one tty), so each watcher
  // registers its own dup; the dup shares the open file description.
  int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) return 0;
  WatchId id = next_id_++;
  if (read || write) {
    epoll_event ev{};
    ev.events = EpollMask(read, write);
    ev.data.u64 = id;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, own, &ev) != 0) {
      close(own);
      return 0;
    }
  }
  watchers_[id] = Watcher{own, read, write, std::move(cb)};
  return id;
}

void EventLoop::SetInterest(WatchId id, bool read, bool write) {
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return;
  Watcher& w = it->second;
  bool was = w.read || w.write;
  bool now = read || write;
  w.read = read;
  w.write = write;
  epoll_event ev{};
  ev.events = EpollMask(read, write);
  ev.data.u64 = id;
  // No interest means deregistration: epoll reports HUP/ERR even with an empty mask, which
  // would spin a level-triggered loop on a hung-up fd nobody wants to read.
  if (was && now) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, w.fd, &ev);
  } else if (!was && now) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, w.fd, &ev);
  } else if (was && !now) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, w.fd, nullptr);
  }
}

void EventLoop::Unwatch(WatchId id) {
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return;
  if (it->second.read || it->second.write)
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
  close(it->second.fd);
  watchers_.erase(it);
}

void EventLoop::DispatchIo() {
  epoll_event evs[64];
  int n = epoll_wait(epoll_fd_, evs, 64, 0);
  for (int i = 0; i < n; ++i) {
    auto it = watchers_.find(evs[i].data.u64);
    if (it == watchers_.end()) continue;  // unwatched by an earlier callback this round
    IoEvents e;
    e.readable = (evs[i].events & EPOLLIN) != 0;
    e.writable = (evs[i].events & EPOLLOUT) != 0;
    e.hangup = (evs[i].events & (EPOLLHUP | EPOLLRDHUP)) != 0;
    e.error = (evs[i].events & EPOLLERR) != 0;
    IoCallback cb = it->second.cb;  // the callback may Unwatch itself
    cb(e);
  }
}

EventLoop::TimerId EventLoop::AddTimer(std::chrono::milliseconds delay, std::function<void()> cb) {
  TimerId id = next_id_++;
  timers_[id] = Timer{Clock::now() + delay, std::move(cb)};
  ScheduleTimerWake();
  return id;
}

void EventLoop::CancelTimer(TimerId id) {
  timers_.erase(id);
  ScheduleTimerWake();
}

void EventLoop::ScheduleTimerWake() {
  if (!ctx_ || !sul_) return;
  if (timers_.empty()) {
    lws_sul_schedule(ctx_, 0, &sul_->sul, nullptr, LWS_SET_TIMER_USEC_CANCEL);
    return;
  }
  Clock::time_point earliest = Clock::time_point::max();
  for (const auto& [id, t] : timers_)
    if (t.due < earliest) earliest = t.due;
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(earliest - Clock::now()).count();
  if (us < 0) us = 0;
  lws_sul_schedule(
      ctx_, 0, &sul_->sul,
      [](lws_sorted_usec_list_t* sul) { reinterpret_cast<SulBox*>(sul)->loop->DispatchTimers(); },
      static_cast<lws_usec_t>(us));
}

void EventLoop::DispatchTimers() {
  auto now = Clock::now();
  std::vector<std::pair<Clock::time_point, TimerId>> due;
  for (const auto& [id, t] : timers_)
    if (t.due <= now) due.emplace_back(t.due, id);
  std::sort(due.begin(), due.end());
  for (const auto& [when, id] : due) {
    auto it = timers_.find(id);
    if (it == timers_.end()) continue;  // cancelled by an earlier timer this round
    auto cb = std::move(it->second.cb);
    timers_.erase(it);
    cb();
  }
  ScheduleTimerWake();
  // lws runs ripe suls before it polls and then sleeps until the next event; wake that poll
  // so lws_service() returns and Run()/RunUntil() see what the timer changed.
  if (!due.empty()) lws_cancel_service(ctx_);
}

Status EventLoop::WatchSignal(int signo, std::function<void(int)> cb) {
  auto it = signals_.find(signo);
  if (it != signals_.end()) {
    it->second.cb = std::move(cb);
    return Status::Ok();
  }
  struct sigaction sa {};
  sa.sa_handler = RecordSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  auto* previous = new struct sigaction;
  if (sigaction(signo, &sa, previous) != 0) {
    delete previous;
    return MakeError(ErrorCode::kInternal, "sigaction failed for signal " + std::to_string(signo));
  }
  signals_[signo] = SignalEntry{std::move(cb), previous};
  return Status::Ok();
}

void EventLoop::UnwatchSignal(int signo) {
  auto it = signals_.find(signo);
  if (it == signals_.end()) return;
  sigaction(signo, it->second.previous, nullptr);
  delete it->second.previous;
  signals_.erase(it);
}

void EventLoop::DrainSignals() {
  unsigned char buf[64];
  for (;;) {
    ssize_t n = read(sig_pipe_[0], buf, sizeof buf);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      auto it = signals_.find(buf[i]);
      if (it == signals_.end()) continue;
      auto cb = it->second.cb;
      cb(buf[i]);
    }
  }
}

void EventLoop::ServiceOnce() {
  // lws 4.x ignores the timeout: it sleeps until a socket, our epoll fd or a sul is due.
  lws_service(ctx_, 0);
}

void EventLoop::Run() {
  while (!stop_) ServiceOnce();
  stop_ = false;
}

bool EventLoop::RunUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  bool expired = false;
  TimerId t = AddTimer(timeout, [&expired] { expired = true; });
  while (!done() && !expired && !stop_) ServiceOnce();
  stop_ = false;
  if (!expired) CancelTimer(t);
  return done();
}

}  // namespace kproxy
