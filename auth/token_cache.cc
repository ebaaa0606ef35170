#include "auth/token_cache.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "auth/auth_env.h"

namespace kproxy::auth {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kMaxCacheFileBytes = 256 * 1024;

Error IoError(const std::string& what, const fs::path& path) {
  return MakeError(ErrorCode::kConfig, what + " " + path.string() + ": " + std::strerror(errno));
}

std::optional<std::string> ReadSmallFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string data;
  char buf[4096];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > kMaxCacheFileBytes) return std::nullopt;
  }
  return data;
}

json ToJson(const CacheEntry& e) {
  json j = {{"route", e.route},   {"mode", e.mode},
            {"token", e.token},   {"obtained_at", e.obtained_at},
            {"method", e.method}, {"rejected", e.rejected}};
  if (e.expiry) j["expiry"] = *e.expiry;
  if (e.last_good_probe) j["last_good_probe"] = *e.last_good_probe;
  if (!e.last_caller.empty()) j["last_caller"] = e.last_caller;
  return j;
}

std::optional<CacheEntry> FromJson(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  CacheEntry e;
  auto str = [&](const char* k, std::string* out) {
    auto it = j.find(k);
    if (it != j.end() && it->is_string()) *out = it->get<std::string>();
  };
  auto num = [&](const char* k) -> std::optional<int64_t> {
    auto it = j.find(k);
    if (it != j.end() && it->is_number_integer()) return it->get<int64_t>();
    return std::nullopt;
  };
  str("route", &e.route);
  str("mode", &e.mode);
  str("token", &e.token);
  str("method", &e.method);
  str("last_caller", &e.last_caller);
  e.obtained_at = num("obtained_at").value_or(0);
  e.expiry = num("expiry");
  e.last_good_probe = num("last_good_probe");
  auto rej = j.find("rejected");
  e.rejected = rej != j.end() && rej->is_boolean() && rej->get<bool>();
  if (e.token.empty()) return std::nullopt;
  return e;
}

}  // namespace

CacheLock& CacheLock::operator=(CacheLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

CacheLock::~CacheLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

Result<fs::path> TokenCache::DefaultDir(
    const std::function<std::optional<std::string>(const std::string&)>& getenv) {
  if (auto xdg = getenv("XDG_CACHE_HOME"); xdg && !xdg->empty() && (*xdg)[0] == '/') {
    return fs::path(*xdg) / "kproxy";
  }
  if (auto home = getenv("HOME"); home && !home->empty()) {
    return fs::path(*home) / ".cache" / "kproxy";
  }
  return MakeError(ErrorCode::kConfig, "cannot find a cache directory: set HOME or XDG_CACHE_HOME");
}

std::string TokenCache::Key(std::string_view normalized_route, std::string_view mode) {
  std::string input = std::string(normalized_route) + "\n" + std::string(mode);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

fs::path TokenCache::EntryPath(std::string_view key) const {
  return dir_ / (std::string(key) + ".json");
}

Status TokenCache::EnsureDir() const {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) {
    return MakeError(ErrorCode::kConfig,
                     "cannot create cache directory " + dir_.string() + ": " + ec.message());
  }
  // Tighten an existing directory too: tokens are bearer credentials.
  if (::chmod(dir_.c_str(), 0700) != 0) return IoError("cannot chmod", dir_);
  return Status::Ok();
}

Status TokenCache::WriteFileAtomic(const fs::path& path, std::string_view data) const {
  if (Status s = EnsureDir(); !s) return s;
  std::string tmpl = (dir_ / ".tmp-XXXXXX").string();
  int fd = ::mkstemp(tmpl.data());  // mkstemp creates the file 0600
  if (fd < 0) return IoError("cannot create a temporary file in", dir_);
  ::fchmod(fd, 0600);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmpl.c_str());
      return IoError("cannot write", tmpl);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmpl.c_str());
    return IoError("cannot write", tmpl);
  }
  if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    ::unlink(tmpl.c_str());
    return IoError("cannot rename into", path);
  }
  return Status::Ok();
}

Result<std::optional<CacheEntry>> TokenCache::Load(std::string_view key) const {
  auto text = ReadSmallFile(EntryPath(key));
  if (!text) return std::optional<CacheEntry>();
  return FromJson(*text);
}

Status TokenCache::Save(std::string_view key, const CacheEntry& entry) const {
  return WriteFileAtomic(EntryPath(key), ToJson(entry).dump(2) + "\n");
}

Status TokenCache::Remove(std::string_view key) const {
  std::string k(key);
  for (const char* ext : {".json", ".pending", ".abandoned"}) {
    fs::path p = dir_ / (k + ext);
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return IoError("cannot remove", p);
  }
  // The .lock file stays: unlinking it could let two processes lock different inodes.
  return Status::Ok();
}

Result<std::vector<std::pair<std::string, CacheEntry>>> TokenCache::List() const {
  std::vector<std::pair<std::string, CacheEntry>> out;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return out;
  for (const auto& de : fs::directory_iterator(dir_, ec)) {
    if (de.path().extension() != ".json") continue;
    std::string key = de.path().stem().string();
    auto e = Load(key);
    if (e && e->has_value()) out.emplace_back(key, **e);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.second.route < b.second.route; });
  return out;
}

Result<CacheLock> TokenCache::Lock(std::string_view key, std::chrono::milliseconds timeout,
                                   const std::function<bool()>& while_waiting) const {
  if (Status s = EnsureDir(); !s) return s.error();
  fs::path path = dir_ / (std::string(key) + ".lock");
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot open lock file", path);
  CacheLock lock(fd);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return lock;
    if (errno != EWOULDBLOCK && errno != EINTR) return IoError("cannot lock", path);
    if (std::chrono::steady_clock::now() >= deadline) {
      return MakeError(ErrorCode::kTimeout,
                       "timed out waiting for another kproxy process to finish signing in");
    }
    if (while_waiting && !while_waiting()) {
      return MakeError(ErrorCode::kCancelled, "cancelled while waiting for another sign-in");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Status TokenCache::SetPendingUrl(std::string_view key, std::string_view url) const {
  return WriteFileAtomic(dir_ / (std::string(key) + ".pending"), url);
}

std::string TokenCache::PendingUrl(std::string_view key) const {
  return ReadSmallFile(dir_ / (std::string(key) + ".pending")).value_or("");
}

void TokenCache::ClearPendingUrl(std::string_view key) const {
  fs::path p = dir_ / (std::string(key) + ".pending");
  ::unlink(p.c_str());
}

Status TokenCache::MarkAbandoned(std::string_view key, int64_t now) const {
  return WriteFileAtomic(dir_ / (std::string(key) + ".abandoned"), std::to_string(now));
}

std::optional<int64_t> TokenCache::AbandonedAt(std::string_view key) const {
  auto text = ReadSmallFile(dir_ / (std::string(key) + ".abandoned"));
  if (!text || text->empty()) return std::nullopt;
  char* end = nullptr;
  long long v = std::strtoll(text->c_str(), &end, 10);
  if (end == text->c_str()) return std::nullopt;
  return static_cast<int64_t>(v);
}

void TokenCache::ClearAbandoned(std::string_view key) const {
  fs::path p = dir_ / (std::string(key) + ".abandoned");
  ::unlink(p.c_str());
}

}  // namespace kproxy::auth
