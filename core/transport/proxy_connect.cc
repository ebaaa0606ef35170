#include "core/transport/proxy_connect.h"

#include <cctype>

namespace kproxy {

std::string BuildConnectRequest(std::string_view host, uint16_t port,
                                std::string_view proxy_authorization) {
  std::string authority;
  if (host.find(':') != std::string_view::npos) {
    authority = "[" + std::string(host) + "]";
  } else {
    authority = std::string(host);
  }
  authority += ":" + std::to_string(port);
  std::string req = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  if (!proxy_authorization.empty())
    req += "Proxy-Authorization: " + std::string(proxy_authorization) + "\r\n";
  req += "\r\n";
  return req;
}

ConnectReplyParser::State ConnectReplyParser::Fail(std::string why) {
  state_ = State::kError;
  reason_ = std::move(why);
  return state_;
}

ConnectReplyParser::State ConnectReplyParser::Feed(std::string_view bytes) {
  if (state_ == State::kError) return state_;
  if (state_ == State::kDone) {
    leftover_.append(bytes);
    return state_;
  }
  // Search only the new bytes plus the 3 before them for the blank line.
  size_t search_from = head_.size() >= 3 ? head_.size() - 3 : 0;
  head_.append(bytes);
  size_t end = head_.find("\r\n\r\n", search_from);
  if (end == std::string::npos) {
    if (head_.size() > kMaxHeadBytes) return Fail("proxy reply head exceeds 16 KiB");
    return state_;
  }
  if (end + 4 > kMaxHeadBytes) return Fail("proxy reply head exceeds 16 KiB");
  leftover_ = head_.substr(end + 4);
  head_.resize(end);
  // Status line: HTTP/1.x SP 3DIGIT [SP reason]
  size_t eol = head_.find("\r\n");
  std::string_view line(head_.data(), eol == std::string::npos ? head_.size() : eol);
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ')
    return Fail("malformed proxy reply status line");
  int code = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(line[i])))
      return Fail("malformed proxy reply status code");
    code = code * 10 + (line[i] - '0');
  }
  if (line.size() > 12 && line[12] != ' ') return Fail("malformed proxy reply status line");
  if (code < 100) return Fail("malformed proxy reply status code");
  status_ = code;
  reason_ = line.size() > 13 ? std::string(line.substr(13)) : "";
  state_ = State::kDone;
  return state_;
}

}  // namespace kproxy
