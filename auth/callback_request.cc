#include "auth/callback_request.h"

namespace kproxy::auth {

CallbackRequestParser::State CallbackRequestParser::Fail(std::string why) {
  error_ = std::move(why);
  state_ = State::kFailed;
  return state_;
}

CallbackRequestParser::State CallbackRequestParser::Feed(std::string_view bytes) {
  if (state_ != State::kReading) return state_;
  // Only look for the terminator in the new bytes plus the 3 before them.
  size_t scan_from = head_.size() >= 3 ? head_.size() - 3 : 0;
  size_t room = kMaxCallbackHeadBytes + 4 - head_.size();
  head_.append(bytes.substr(0, room));
  size_t end = head_.find("\r\n\r\n", scan_from);
  if (end == std::string::npos) {
    // Tolerate bare-LF clients (curl never does this, but be lenient like most servers).
    end = head_.find("\n\n", scan_from);
    if (end == std::string::npos) {
      if (head_.size() > kMaxCallbackHeadBytes) return Fail("request head too large");
      return state_;
    }
  }
  head_.resize(end);
  return ParseHead();
}

CallbackRequestParser::State CallbackRequestParser::ParseHead() {
  size_t eol = head_.find('\n');
  std::string line = head_.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  size_t sp1 = line.find(' ');
  if (sp1 == std::string::npos || sp1 == 0) return Fail("malformed request line");
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string::npos || sp2 == sp1 + 1) return Fail("malformed request line");
  if (line.find(' ', sp2 + 1) != std::string::npos) return Fail("malformed request line");
  std::string version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return Fail("unsupported HTTP version");
  method_ = line.substr(0, sp1);
  for (char c : method_) {
    if (c < 'A' || c > 'Z') return Fail("malformed method");
  }
  target_ = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target_[0] != '/') return Fail("request target must be origin-form");
  for (unsigned char c : target_) {
    if (c <= 0x20 || c >= 0x7f) return Fail("invalid character in request target");
  }
  head_.clear();
  head_.shrink_to_fit();
  state_ = State::kDone;
  return state_;
}

void SplitTarget(std::string_view target, std::string* path, std::string* query) {
  size_t q = target.find('?');
  *path = std::string(target.substr(0, q));
  *query = q == std::string_view::npos ? "" : std::string(target.substr(q + 1));
  // A fragment never reaches a server, but drop one defensively.
  if (size_t h = query->find('#'); h != std::string::npos) query->resize(h);
}

}  // namespace kproxy::auth
