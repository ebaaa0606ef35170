// HTTP CONNECT tunnel codec (RFC 9110 §9.3.6): builds the request and parses the proxy's
// reply head. No I/O: the connection feeds bytes in and sends what Build returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kproxy {

// "CONNECT host:port HTTP/1.1\r\nHost: host:port\r\n[Proxy-Authorization: ..\r\n]\r\n".
// IPv6 literals are bracketed. `proxy_authorization` is a full header value or "".
std::string BuildConnectRequest(std::string_view host, uint16_t port,
                                std::string_view proxy_authorization);

// Incremental parser of the reply head. Any 2xx means the tunnel is open (RFC 9110 §15.3).
class ConnectReplyParser {
 public:
  enum class State { kNeedMore, kDone, kError };
  // The head may not exceed this many bytes: a proxy is untrusted input.
  static constexpr size_t kMaxHeadBytes = 16 * 1024;

  // Consumes bytes up to the end of the head; returns the new state. Bytes after the head
  // (there should be none before the client speaks) are kept in leftover(). Stays in kError
  // once there.
  State Feed(std::string_view bytes);
  State state() const { return state_; }
  int status() const { return status_; }
  const std::string& reason() const { return reason_; }  // reason phrase, or the parse error
  const std::string& leftover() const { return leftover_; }

 private:
  State Fail(std::string why);
  State state_ = State::kNeedMore;
  std::string head_;
  std::string leftover_;
  int status_ = 0;
  std::string reason_;
};

}  // namespace kproxy
