// The on-disk session cache (auth.md §5): ${XDG_CACHE_HOME:-~/.cache}/kproxy/<key>.json,
// directory 0700, files 0600, written to a temp file and renamed. Beside each entry:
// <key>.lock (flock, held across check → login → save; never on the data file),
// <key>.pending (the sign-in URL of a login in progress) and <key>.abandoned (when a login
// was given up, for the cooldown).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"

namespace kproxy::auth {

struct CacheEntry {
  std::string route;                       // normalised route URL
  std::string mode;                        // identity mode: "browser" | "service-account"
  std::string token;                       // the JWT (secret)
  int64_t obtained_at = 0;                 // unix seconds
  std::string method;                      // how it was obtained: "access-proxy-login", ...
  std::optional<int64_t> expiry;           // unix seconds, when the token says
  std::optional<int64_t> last_good_probe;  // unix seconds
  bool rejected = false;                   // some kproxy process saw it refused
  std::string last_caller;                 // who `kproxy credential` last gave it to ("pid:N")
};

// An exclusive flock on <key>.lock; released when destroyed.
class CacheLock {
 public:
  CacheLock() = default;
  explicit CacheLock(int fd) : fd_(fd) {}
  CacheLock(CacheLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  CacheLock& operator=(CacheLock&& other) noexcept;
  CacheLock(const CacheLock&) = delete;
  CacheLock& operator=(const CacheLock&) = delete;
  ~CacheLock();
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

class TokenCache {
 public:
  explicit TokenCache(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // ${XDG_CACHE_HOME:-$HOME/.cache}/kproxy; kConfig when neither variable is usable.
  static Result<std::filesystem::path> DefaultDir(
      const std::function<std::optional<std::string>(const std::string&)>& getenv);
  // SHA-256 hex of "<normalised route>\n<mode>".
  static std::string Key(std::string_view normalized_route, std::string_view mode);

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path EntryPath(std::string_view key) const;

  // nullopt when absent; a corrupt file reads as absent (it is rewritten by the next login).
  Result<std::optional<CacheEntry>> Load(std::string_view key) const;
  Status Save(std::string_view key, const CacheEntry& entry) const;
  // Removes the entry and its side files; absent is fine.
  Status Remove(std::string_view key) const;
  // Every readable entry, with its key.
  Result<std::vector<std::pair<std::string, CacheEntry>>> List() const;

  // Waits up to `timeout` for the key's lock, calling `while_waiting` about every 100 ms
  // while another process holds it; it returns false to give up (kCancelled, e.g. on
  // SIGINT). kTimeout when the wait runs out.
  Result<CacheLock> Lock(std::string_view key, std::chrono::milliseconds timeout,
                         const std::function<bool()>& while_waiting = {}) const;

  Status SetPendingUrl(std::string_view key, std::string_view url) const;
  std::string PendingUrl(std::string_view key) const;  // "" when none
  void ClearPendingUrl(std::string_view key) const;

  Status MarkAbandoned(std::string_view key, int64_t now) const;
  std::optional<int64_t> AbandonedAt(std::string_view key) const;
  void ClearAbandoned(std::string_view key) const;

 private:
  Status EnsureDir() const;
  Status WriteFileAtomic(const std::filesystem::path& path, std::string_view data) const;

  std::filesystem::path dir_;
};

}  // namespace kproxy::auth
