// Server side of the upgrade (the simulator): an incremental HTTP/1.1 request-head parser and
// builders for 101 and error responses. No I/O.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/result.h"
#include "core/transport/http_headers.h"

namespace kproxy::http {

struct HttpRequest {
  std::string method;
  std::string target;                                      // as sent: path + optional "?query"
  std::string path;                                        // percent-decoded path
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order ('+' → ' ')
  Headers headers;

  // Every value of query key `key`, in order.
  std::vector<std::string> QueryAll(std::string_view key) const;
  // The first value of `key`, or "".
  std::string Query(std::string_view key) const;
};

// Percent-decodes `s` (and '+' → ' ' when `plus_is_space`). kProtocol on a bad escape.
Result<std::string> PercentDecode(std::string_view s, bool plus_is_space);

class HttpRequestParser {
 public:
  // A request body (Content-Length only) up to `max_body` bytes is read and dropped — upgrade
  // requests have none (SPDY sends Content-Length: 0). Chunked requests are refused.
  explicit HttpRequestParser(size_t max_head = kMaxHeadBytes, size_t max_body = kMaxBodyBytes);

  // Consumes `bytes`. kProtocol on a malformed request (sticky).
  Status Feed(std::string_view bytes);
  bool done() const { return state_ == State::kDone; }
  bool failed() const { return state_ == State::kFailed; }
  const HttpRequest& request() const { return request_; }
  // Bytes after the request (after a 101: the upgraded protocol's first bytes).
  std::string TakeLeftover() { return std::move(leftover_); }

 private:
  enum class State { kHead, kBody, kDone, kFailed };
  Status Fail(std::string message);
  Status OnHead();

  size_t max_body_;
  State state_ = State::kHead;
  HeadAccumulator head_;
  HttpRequest request_;
  uint64_t body_remaining_ = 0;
  std::string leftover_;
  std::string error_;
};

// "HTTP/1.1 101 Switching Protocols" with the given fields (e.g. Upgrade, Connection,
// Sec-WebSocket-Accept, Sec-WebSocket-Protocol) and the empty line.
std::string BuildSwitchingProtocols(const std::vector<std::pair<std::string, std::string>>& fields);
// The 101 a WebSocket server sends for `client_key` choosing `protocol` ("" → no protocol field).
std::string BuildWebSocketAccept(std::string_view client_key, std::string_view protocol);
// The 101 an SPDY server sends choosing `version` ("" → no X-Stream-Protocol-Version field).
std::string BuildSpdyAccept(std::string_view version);
// A complete non-101 response with Content-Length, e.g. (403, "Forbidden",
// "application/json", status_json, {}) — the reason phrase defaults from the status when empty.
std::string BuildErrorResponse(int status, std::string_view reason, std::string_view content_type,
                               std::string_view body,
                               const std::vector<std::pair<std::string, std::string>>& extra = {});

}  // namespace kproxy::http
