// Server role (the simulator): which streams a client promised, when they have all arrived,
// and the final status on the error stream (kubelet cri/streaming/remotecommand).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/k8s/status.h"
#include "core/remotecommand/protocol_version.h"
#include "core/remotecommand/stream_options.h"
#include "core/stream/stream_connection.h"

namespace kproxy::remotecommand {

// The stream types a client of `version` creates for `options` (the kubelet's
// expectedStreams): error, stdin?, stdout?, stderr? (never with tty), resize (tty, v3+).
std::vector<std::string> ExpectedStreamTypes(ProtocolVersion version, const StreamOptions& options);

// Tracks incoming streams until exactly the promised set exists. The kubelet waits 30 s for
// them (the caller owns the clock) and then gives up.
class StreamTracker {
 public:
  StreamTracker(ProtocolVersion version, const StreamOptions& options);

  // Consumes one accepted stream's type; kProtocol for a type not promised or seen twice
  // (the stream should then be reset; it does not count).
  Status Add(const std::string& type, StreamId id);
  bool Complete() const;
  // Promised types that have not arrived, in creation order (for the timeout message).
  std::vector<std::string> Missing() const;
  // The id of an arrived stream, or nullptr.
  const StreamId* Find(const std::string& type) const;

 private:
  std::vector<std::string> expected_;
  std::map<std::string, StreamId> arrived_;
};

// The bytes a server of `version` writes on the error stream for `status`: v4/v5 the Status
// JSON; v1-v3 nothing for Success, else the message text.
std::string ErrorStreamPayload(ProtocolVersion version, const k8s::ApiStatus& status);

// Writes ErrorStreamPayload on the error stream, then half-closes it. Returns kUnavailable
// when the stream is already closed for writing.
Status WriteFinalStatus(StreamConnection* conn, StreamId error_stream, ProtocolVersion version,
                        const k8s::ApiStatus& status);

}  // namespace kproxy::remotecommand
