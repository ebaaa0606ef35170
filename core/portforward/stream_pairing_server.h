// Server side of portforward.k8s.io stream pairing (kubelet cri/streaming/portforward
// httpstream.go): validates each incoming stream's headers, pairs error and data streams by
// request id in either order, reports complete pairs and times out incomplete ones. No I/O:
// the caller resets rejected streams and writes messages on error streams.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/stream/stream_connection.h"

namespace kproxy::portforward {

struct StreamPair {
  std::string request_id;
  uint16_t port = 0;  // from the data stream's "port" header, as the kubelet reads it
  StreamId error_stream = 0;
  StreamId data_stream = 0;
};

struct PairOutcome {
  enum class Kind {
    kRejected,   // bad headers: reset the stream (message says why)
    kPending,    // waiting for the other half
    kComplete,   // `pair` is ready to forward
    kPairError,  // a second error or data stream for a request: write `message` on
                 // `error_stream` (when set) and reset the new stream
  };
  Kind kind = Kind::kPending;
  StreamPair pair;
  std::string message;
  std::optional<StreamId> error_stream;
};

struct ExpiredPair {
  std::string request_id;
  std::optional<StreamId> error_stream;  // write `message` here, then close it
  std::optional<StreamId> data_stream;
  std::string message;  // "(request=N) timed out waiting for streams"
};

class StreamPairServer {
 public:
  using Clock = std::chrono::steady_clock;
  explicit StreamPairServer(Clock::duration timeout);

  // Consumes one stream the client opened (its id and headers) at time `now`; returns what
  // to do with it. Without a requestid header (clients before 1.6) the id derives from the
  // stream id as the kubelet does: error → id, data → id - 2.
  PairOutcome Add(StreamId id, const StreamHeaders& headers, Clock::time_point now);

  // Removes and returns the pairs still incomplete `timeout` after their first stream.
  std::vector<ExpiredPair> Expire(Clock::time_point now);

  size_t pending() const { return pending_.size(); }

 private:
  struct Pending {
    Clock::time_point created;
    std::optional<StreamId> error;
    std::optional<StreamId> data;
    uint16_t port = 0;
  };
  Clock::duration timeout_;
  std::map<std::string, Pending> pending_;
};

// The kubelet's header checks on an incoming port-forward stream (httpStreamReceived):
// consumes the headers; returns the port or kProtocol with the kubelet's message.
Result<uint16_t> ValidateStreamHeaders(const StreamHeaders& headers);

}  // namespace kproxy::portforward
