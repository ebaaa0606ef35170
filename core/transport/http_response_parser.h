// Incremental HTTP/1.1 response parser for upgrade requests (client side). No I/O.
//
// A 101 ends at its head: bytes after it belong to the upgraded protocol and are handed back
// untouched (TakeLeftover). Any other status keeps its body — bounded — because the 403
// classification needs status, headers and body together (protocols.md §5).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/result.h"
#include "core/transport/http_headers.h"

namespace kproxy::http {

struct HttpResponse {
  int status = 0;
  std::string reason;
  Headers headers;
  std::string body;
  bool body_truncated = false;  // the body exceeded the cap; the rest was not read
};

class HttpResponseParser {
 public:
  explicit HttpResponseParser(size_t max_head = kMaxHeadBytes, size_t max_body = kMaxBodyBytes);

  // Consumes `bytes`. Returns kProtocol on a malformed response (sticky). After done(), further
  // bytes are appended to the leftover.
  Status Feed(std::string_view bytes);
  // The peer closed the connection: completes a read-until-close body; kUnavailable if the
  // response was cut short.
  Status FinishOnEof();

  bool done() const { return state_ == State::kDone; }
  bool failed() const { return state_ == State::kFailed; }
  const HttpResponse& response() const { return response_; }
  // Bytes received after the end of the response (after a 101: the upgraded protocol's).
  std::string TakeLeftover() { return std::move(leftover_); }

 private:
  enum class State {
    kHead,
    kBodyLength,
    kBodyChunkSize,
    kBodyChunkData,
    kBodyChunkCrlf,
    kBodyTrailers,
    kBodyUntilClose,
    kDone,
    kFailed
  };
  Status Fail(std::string message);
  Status OnHead();
  // Appends to the body respecting the cap; returns false when the cap was hit (done).
  bool AppendBody(std::string_view data);
  void Finish();

  size_t max_head_;
  size_t max_body_;
  State state_ = State::kHead;
  HeadAccumulator head_;
  HttpResponse response_;
  int interim_responses_ = 0;
  uint64_t remaining_ = 0;  // Content-Length or current chunk bytes left
  std::string line_;        // chunk-size / trailer line being assembled
  std::string leftover_;
  std::string error_;
};

}  // namespace kproxy::http
