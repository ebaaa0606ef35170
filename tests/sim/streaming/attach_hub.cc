#include "tests/sim/streaming/attach_hub.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

namespace kproxy::sim::streaming {

namespace {
// A subscriber that stopped reading loses output beyond this rather than growing without
// bound (a real container's attach output is not buffered for slow clients either).
constexpr size_t kMaxQueuedBytes = 4 << 20;
}  // namespace

AttachSubscriber::AttachSubscriber() : event_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

AttachSubscriber::~AttachSubscriber() {
  if (event_fd_ >= 0) close(event_fd_);
}

void AttachSubscriber::Wake() {
  uint64_t one = 1;
  (void)!write(event_fd_, &one, sizeof one);
}

std::deque<AttachSubscriber::Chunk> AttachSubscriber::Take() {
  uint64_t v;
  (void)!read(event_fd_, &v, sizeof v);
  std::lock_guard<std::mutex> lock(mu_);
  queued_bytes_ = 0;
  return std::exchange(queue_, {});
}

std::optional<int> AttachSubscriber::exit_code() const {
  std::lock_guard<std::mutex> lock(mu_);
  return exit_code_;
}

void AttachSubscriber::Push(bool is_stderr, std::string data) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queued_bytes_ + data.size() > kMaxQueuedBytes) return;
    queued_bytes_ += data.size();
    queue_.push_back(Chunk{is_stderr, std::move(data)});
  }
  Wake();
}

void AttachSubscriber::Exited(int code) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    exit_code_ = code;
  }
  Wake();
}

Result<std::shared_ptr<AttachTarget>> AttachTarget::Start(const ProcessSpec& spec) {
  auto p = Process::Start(spec);
  if (!p.ok()) return p.error();
  std::shared_ptr<AttachTarget> t(new AttachTarget());
  t->process_ = std::move(*p);
  t->tty_ = spec.tty;
  t->command_ = spec.argv;
  if (pipe2(t->stop_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
    return MakeError(ErrorCode::kInternal, "pipe");
  }
  t->reader_ = std::thread([raw = t.get()] { raw->ReaderLoop(); });
  return t;
}

AttachTarget::~AttachTarget() {
  stop_ = true;
  if (stop_pipe_[1] >= 0) (void)!write(stop_pipe_[1], "x", 1);
  if (reader_.joinable()) reader_.join();
  process_.reset();  // kills a still-running process
  for (int fd : stop_pipe_)
    if (fd >= 0) close(fd);
}

void AttachTarget::Subscribe(AttachSubscriber* s) {
  std::lock_guard<std::mutex> lock(mu_);
  subscribers_.push_back(s);
  if (exited_) s->Exited(*process_->exit_code());
}

void AttachTarget::Unsubscribe(AttachSubscriber* s) {
  std::lock_guard<std::mutex> lock(mu_);
  subscribers_.erase(std::remove(subscribers_.begin(), subscribers_.end(), s), subscribers_.end());
}

ssize_t AttachTarget::WriteStdin(std::string_view bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (exited_) return -1;
  return process_->WriteStdin(bytes);
}

void AttachTarget::Resize(uint16_t width, uint16_t height) {
  std::lock_guard<std::mutex> lock(mu_);
  process_->Resize(width, height);
}

void AttachTarget::ReaderLoop() {
  int out = process_->stdout_fd();
  int err = process_->stderr_fd();
  char buf[32 * 1024];
  while (!stop_ && (out >= 0 || err >= 0)) {
    pollfd fds[3] = {{stop_pipe_[0], POLLIN, 0}, {out, POLLIN, 0}, {err, POLLIN, 0}};
    int r = poll(fds, 3, 200);
    if (r < 0 && errno != EINTR) break;
    for (int i = 1; i < 3; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        std::lock_guard<std::mutex> lock(mu_);
        for (AttachSubscriber* s : subscribers_) s->Push(i == 2, std::string(buf, n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        // EOF, or EIO on a pty master once the last slave holder is gone.
        (i == 1 ? out : err) = -1;
      }
    }
    // A shell that started background jobs may keep a pty (or pipe) open after it exited:
    // once the process is gone, drain what is already there and stop.
    if (process_->Poll()) {
      for (int i = 1; i < 3; ++i) {
        int fd = i == 1 ? out : err;
        ssize_t n;
        while (fd >= 0 && (n = read(fd, buf, sizeof buf)) > 0) {
          std::lock_guard<std::mutex> lock(mu_);
          for (AttachSubscriber* s : subscribers_) s->Push(i == 2, std::string(buf, n));
        }
      }
      break;
    }
  }
  if (stop_) return;
  int code = process_->Wait(2000);
  std::lock_guard<std::mutex> lock(mu_);
  exited_ = true;
  for (AttachSubscriber* s : subscribers_) s->Exited(code);
}

Result<std::shared_ptr<AttachTarget>> AttachHub::Get(const std::string& key,
                                                     const ProcessSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = targets_.find(key);
  if (it != targets_.end() && !it->second->exited()) return it->second;
  auto t = AttachTarget::Start(spec);
  if (!t.ok()) return t.error();
  targets_[key] = *t;
  return *t;
}

void AttachHub::Clear() {
  std::map<std::string, std::shared_ptr<AttachTarget>> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old.swap(targets_);
  }
}

}  // namespace kproxy::sim::streaming
