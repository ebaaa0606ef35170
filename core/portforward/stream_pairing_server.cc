#include "core/portforward/stream_pairing_server.h"

#include "core/portforward/portforward_format.h"

namespace kproxy::portforward {
namespace {

Error Reject(std::string message) { return MakeError(ErrorCode::kProtocol, std::move(message)); }

}  // namespace

Result<uint16_t> ValidateStreamHeaders(const StreamHeaders& headers) {
  std::string port = headers.Get(kHeaderPort);
  if (port.empty()) return Reject("\"port\" header is required");
  // strconv.ParseUint(port, 10, 16)
  uint32_t value = 0;
  bool digits = true;
  for (char c : port) {
    if (c < '0' || c > '9') {
      digits = false;
      break;
    }
    value = value * 10 + static_cast<uint32_t>(c - '0');
    if (value > 0xFFFF) break;
  }
  if (!digits || value > 0xFFFF)
    return Reject("unable to parse \"" + port + "\" as a port: strconv.ParseUint: parsing \"" +
                  port + "\": " + (digits ? "value out of range" : "invalid syntax"));
  if (value < 1) return Reject("port \"" + port + "\" must be > 0");
  std::string type = headers.Get(kHeaderStreamType);
  if (type.empty()) return Reject("\"streamtype\" header is required");
  if (type != streamtype::kError && type != streamtype::kData)
    return Reject("invalid stream type \"" + type + "\"");
  return static_cast<uint16_t>(value);
}

StreamPairServer::StreamPairServer(Clock::duration timeout) : timeout_(timeout) {}

PairOutcome StreamPairServer::Add(StreamId id, const StreamHeaders& headers,
                                  Clock::time_point now) {
  PairOutcome out;
  Result<uint16_t> port = ValidateStreamHeaders(headers);
  if (!port.ok()) {
    out.kind = PairOutcome::Kind::kRejected;
    out.message = port.error().message;
    return out;
  }
  const bool is_error = headers.Get(kHeaderStreamType) == streamtype::kError;
  std::string request_id = headers.Get(kHeaderRequestId);
  if (request_id.empty()) {
    // Best effort for old clients, exactly as the kubelet guesses: consecutive odd stream
    // ids, error first.
    request_id = std::to_string(is_error ? static_cast<int64_t>(id) : static_cast<int64_t>(id) - 2);
  }
  auto [it, created] = pending_.try_emplace(request_id);
  Pending& p = it->second;
  if (created) p.created = now;
  std::optional<StreamId>& slot = is_error ? p.error : p.data;
  if (slot) {
    out.kind = PairOutcome::Kind::kPairError;
    out.message = "error processing stream for request " + request_id + ": " +
                  (is_error ? "error" : "data") + " stream already assigned";
    out.error_stream = p.error;
    return out;
  }
  slot = id;
  if (!is_error) p.port = *port;
  if (!p.error || !p.data) {
    out.kind = PairOutcome::Kind::kPending;
    return out;
  }
  out.kind = PairOutcome::Kind::kComplete;
  out.pair = StreamPair{request_id, p.port, *p.error, *p.data};
  pending_.erase(it);
  return out;
}

std::vector<ExpiredPair> StreamPairServer::Expire(Clock::time_point now) {
  std::vector<ExpiredPair> expired;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (now - it->second.created < timeout_) {
      ++it;
      continue;
    }
    expired.push_back(ExpiredPair{it->first, it->second.error, it->second.data,
                                  "(request=" + it->first + ") timed out waiting for streams"});
    it = pending_.erase(it);
  }
  return expired;
}

}  // namespace kproxy::portforward
