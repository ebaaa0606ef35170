// HTTP/1.1 request heads for the simulator: an incremental parser (bytes in, a request out) and
// the URL helpers the API routes need. No I/O here: the connection loop feeds what it reads.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kproxy::sim {

struct HttpRequest {
  std::string method;
  std::string target;  // as sent: path plus optional ?query
  std::string path;    // percent-decoded path
  std::string raw_query;
  std::string version;                                       // "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, order kept
  std::vector<std::pair<std::string, std::string>> query;    // decoded, order kept

  // The first value of header `name` (lower-case), or "" when absent.
  std::string Header(std::string_view name) const;
  // Every value of `name`, one per header line.
  std::vector<std::string> Headers(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  // The first value of query parameter `name`, or "".
  std::string Query(std::string_view name) const;
  bool HasQuery(std::string_view name) const;
  // Connection header contains `token` (case-insensitive, comma list).
  bool ConnectionHas(std::string_view token) const;
};

// Limits named after what they protect against (RFC 9112 leaves them to the server).
struct RequestLimits {
  size_t max_line = 16 * 1024;  // request line or one header line
  size_t max_head = 64 * 1024;  // the whole head
  size_t max_headers = 128;
};

// Consumes request-head bytes in any split; stays failed after an error.
class RequestHeadParser {
 public:
  enum class State { kNeedMore, kDone, kError };

  explicit RequestHeadParser(RequestLimits limits = {});
  // Feeds bytes; returns how many were consumed. Stops right after the blank line, so the
  // caller keeps the rest (body, pipelined requests, upgraded stream bytes).
  size_t Feed(std::string_view bytes);
  State state() const { return state_; }
  // On error: the status to answer with (400, 414, 431, 505) and why.
  int error_status() const { return error_status_; }
  const std::string& error() const { return error_; }
  const HttpRequest& request() const { return request_; }
  HttpRequest& request() { return request_; }

 private:
  void Fail(int status, std::string why);
  void OnLine(std::string_view line);

  RequestLimits limits_;
  State state_ = State::kNeedMore;
  int error_status_ = 0;
  std::string error_;
  std::string line_;
  size_t head_bytes_ = 0;
  bool have_request_line_ = false;
  HttpRequest request_;
};

// Percent-decoding; `plus_is_space` for query components. False on a malformed escape.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out);
// Query escaping as Go's url.QueryEscape does (space → '+').
std::string QueryEscape(std::string_view in);
// Splits "a=1&b=2" into decoded pairs; false on a malformed escape.
bool ParseQuery(std::string_view raw, std::vector<std::pair<std::string, std::string>>* out);
std::string ToLower(std::string_view s);

}  // namespace kproxy::sim
