#include "core/rest/token_file.h"

#include <fstream>
#include <sstream>

#include "core/base/log.h"

namespace kproxy {
namespace {

constexpr size_t kMaxTokenBytes = 1 << 20;  // a token is never this big; refuse runaway files

std::string TrimSpace(const std::string& s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

}  // namespace

TokenFileSource::TokenFileSource(std::string path, Clock now)
    : path_(std::move(path)),
      now_(now ? std::move(now) : [] { return std::chrono::steady_clock::now(); }) {}

Result<std::string> TokenFileSource::Token() {
  std::lock_guard<std::mutex> lock(mu_);
  auto now = now_();
  if (have_ && now - read_at_ < kRefresh) return token_;
  std::ifstream in(path_, std::ios::binary);
  std::string content;
  bool ok = false;
  if (in) {
    content.resize(kMaxTokenBytes + 1);
    in.read(content.data(), static_cast<std::streamsize>(content.size()));
    content.resize(static_cast<size_t>(in.gcount()));
    ok = content.size() <= kMaxTokenBytes;
  }
  std::string token = ok ? TrimSpace(content) : "";
  if (token.empty()) {
    if (have_) {
      Log(2, "tokenFile " + path_ + " unreadable or empty; keeping the previous token");
      read_at_ = now;
      return token_;
    }
    return MakeError(ErrorCode::kConfig, "error: cannot read a token from tokenFile " + path_ +
                                             (in ? " (empty or too large)" : " (cannot open)"));
  }
  RegisterSecret(token);
  token_ = token;
  read_at_ = now;
  have_ = true;
  return token_;
}

}  // namespace kproxy
