// A kubeconfig tokenFile, re-read at least once a minute (client-go's cachingTokenSource):
// projected service-account tokens rotate on disk while kproxy runs.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "core/base/result.h"

namespace kproxy {

class TokenFileSource {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  static constexpr std::chrono::seconds kRefresh{60};

  // `now` defaults to std::chrono::steady_clock::now.
  explicit TokenFileSource(std::string path, Clock now = nullptr);

  // The file's content, whitespace-trimmed; re-read when the cached copy is older than
  // kRefresh. A failed re-read keeps the last good token (as client-go); a failed first read
  // or an empty file is a kConfig error naming the path. Thread-safe.
  Result<std::string> Token();

 private:
  std::string path_;
  Clock now_;
  std::mutex mu_;
  std::string token_;
  std::chrono::steady_clock::time_point read_at_{};
  bool have_ = false;
};

}  // namespace kproxy
