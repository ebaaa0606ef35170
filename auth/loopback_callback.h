// The loopback listener that receives the access proxy's redirect after sign-in
// (auth.md §4.1, §4.4): 127.0.0.1:0 only; accepts exactly one GET on the expected path with
// the expected state and a pomerium_jwt; everything else gets a 400 and the wait goes on.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "core/base/result.h"

namespace kproxy::auth {

class LoopbackCallbackServer {
 public:
  // Binds 127.0.0.1:0 and listens; kUnavailable when the socket cannot be created.
  static Result<LoopbackCallbackServer> Open();
  LoopbackCallbackServer(LoopbackCallbackServer&& other) noexcept;
  LoopbackCallbackServer& operator=(LoopbackCallbackServer&&) = delete;
  LoopbackCallbackServer(const LoopbackCallbackServer&) = delete;
  ~LoopbackCallbackServer();

  int port() const { return port_; }

  // Serves connections until a GET <path>?...state=<state>...&pomerium_jwt=<jwt> arrives;
  // answers it with a short "login complete" page, stops listening and returns the JWT.
  // kTimeout at `deadline`; kCancelled as soon as *cancel becomes true (checked every
  // 100 ms, so a SIGINT handler may set it).
  Result<std::string> WaitForToken(const std::string& path, const std::string& state,
                                   std::chrono::steady_clock::time_point deadline,
                                   const std::atomic<bool>* cancel);

 private:
  explicit LoopbackCallbackServer(int fd, int port) : fd_(fd), port_(port) {}
  void Close();

  int fd_ = -1;
  int port_ = 0;
};

}  // namespace kproxy::auth
