// Attach targets: one long-running process per pod container (the fixture's command, started
// at the first attach), whose output fans out to every attached session and whose stdin takes
// input from all of them — what a container's main process is to `kubectl attach`. A reader
// thread per target moves output into each subscriber's queue and wakes it via an eventfd the
// subscriber's ConnLoop watches. When the process exits, every subscriber learns the exit code
// and the next attach starts a fresh process.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/base/result.h"
#include "tests/sim/streaming/process.h"

namespace kproxy::sim::streaming {

class AttachTarget;

// One attached session's inbox. Thread-safe; wake_fd() becomes readable when something arrived.
class AttachSubscriber {
 public:
  AttachSubscriber();
  ~AttachSubscriber();
  AttachSubscriber(const AttachSubscriber&) = delete;
  AttachSubscriber& operator=(const AttachSubscriber&) = delete;

  struct Chunk {
    bool is_stderr = false;
    std::string data;
  };
  int wake_fd() const { return event_fd_; }
  // Drains the queued output (clears the wake-up).
  std::deque<Chunk> Take();
  // The target's process exit code once it exited.
  std::optional<int> exit_code() const;

  // Called by the target's reader thread.
  void Push(bool is_stderr, std::string data);
  void Exited(int code);

 private:
  void Wake();
  mutable std::mutex mu_;
  std::deque<Chunk> queue_;
  size_t queued_bytes_ = 0;
  std::optional<int> exit_code_;
  int event_fd_ = -1;
};

class AttachTarget {
 public:
  // Starts the process; its output is read by a thread owned by this object.
  static Result<std::shared_ptr<AttachTarget>> Start(const ProcessSpec& spec);
  ~AttachTarget();

  void Subscribe(AttachSubscriber* s);
  void Unsubscribe(AttachSubscriber* s);
  // Writes what it can now; returns bytes written, -1 when stdin is gone.
  ssize_t WriteStdin(std::string_view bytes);
  void Resize(uint16_t width, uint16_t height);
  bool tty() const { return tty_; }
  bool exited() const { return exited_.load(); }
  std::vector<std::string> command() const { return command_; }

 private:
  AttachTarget() = default;
  void ReaderLoop();

  std::unique_ptr<Process> process_;
  bool tty_ = false;
  std::vector<std::string> command_;
  std::mutex mu_;  // subscribers_ and process stdin/resize
  std::vector<AttachSubscriber*> subscribers_;
  std::atomic<bool> exited_{false};
  std::atomic<bool> stop_{false};
  int stop_pipe_[2] = {-1, -1};
  std::thread reader_;
};

// Targets by "namespace/pod/container". Thread-safe.
class AttachHub {
 public:
  // The running target for `key`, or a new one started from `spec` (a dead one is replaced).
  Result<std::shared_ptr<AttachTarget>> Get(const std::string& key, const ProcessSpec& spec);
  // Kills every target (simulator shutdown).
  void Clear();

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<AttachTarget>> targets_;
};

}  // namespace kproxy::sim::streaming
