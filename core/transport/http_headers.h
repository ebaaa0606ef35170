// HTTP/1.1 header fields and head-line parsing shared by the upgrade request/response parsers.
// No I/O.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/result.h"

namespace kproxy::http {

// Header fields in arrival order; names keep their case, lookups ignore it.
class Headers {
 public:
  void Add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
  }
  // The first value of `name` (case-insensitive), or "" when absent.
  std::string Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  // Every value of `name`, in order.
  std::vector<std::string> GetAll(std::string_view name) const;
  // True when a comma-separated value of `name` equals `token` (case-insensitive), e.g.
  // Connection: keep-alive, Upgrade.
  bool HasToken(std::string_view name, std::string_view token) const;
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string_view TrimOws(std::string_view s);

// Limits on what a peer may make us buffer (untrusted input is bounded, never asserted).
inline constexpr size_t kMaxHeadBytes = 64 * 1024;
inline constexpr size_t kMaxBodyBytes = 64 * 1024;

// Splits a complete head (start line + fields, terminated by an empty line; CRLF or bare LF)
// into the start line and header fields. Obsolete line folding (RFC 7230 §3.2.4: a line starting
// with SP/HT continues the previous value) is joined with one space. kProtocol on a malformed
// field line.
Result<std::string> ParseHead(std::string_view head, Headers* headers);

// Incrementally finds the end of a head ("\r\n\r\n" or "\n\n"). Feed bytes; once complete,
// head() holds the head and the rest of the fed bytes are in leftover().
class HeadAccumulator {
 public:
  explicit HeadAccumulator(size_t max_bytes = kMaxHeadBytes) : max_(max_bytes) {}
  // Consumes `bytes`. Returns true when the head is complete; kProtocol error when it exceeds
  // the limit before completing.
  Result<bool> Feed(std::string_view bytes);
  const std::string& head() const { return head_; }
  std::string TakeLeftover() { return std::move(leftover_); }

 private:
  size_t max_;
  std::string head_;
  std::string leftover_;
  bool done_ = false;
};

}  // namespace kproxy::http
