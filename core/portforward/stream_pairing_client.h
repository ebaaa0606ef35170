// Client side of portforward.k8s.io stream pairing over one StreamConnection (SPDY session,
// or SPDY tunnelled in WebSocket): per local connection an error stream and a data stream
// sharing a request id (client-go tools/portforward handleConnection). No I/O.
//
// Unlike kubectl, an error on one connection ends only that connection (kubectl tears the
// whole session down with "lost connection to pod").
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/result.h"
#include "core/stream/stream_connection.h"

namespace kproxy::portforward {

using RequestId = uint64_t;

struct ForwardCallbacks {
  std::function<void()> on_ready;                 // data stream open: local bytes may flow
  std::function<void(std::string_view)> on_data;  // remote → local bytes
  std::function<void()> on_remote_close;          // remote EOF on the data stream
  // The connection failed (error text from the server, stream refused or reset). Its streams
  // are reset and it is forgotten: no further callbacks for it.
  std::function<void(Error)> on_error;
};

class StreamPairClient {
 public:
  explicit StreamPairClient(StreamConnection* conn);
  ~StreamPairClient();  // Close()s every connection still open
  StreamPairClient(const StreamPairClient&) = delete;
  StreamPairClient& operator=(const StreamPairClient&) = delete;

  // Starts forwarding one accepted local connection to `remote_port`: takes the next request
  // id (0, 1, 2, ...), opens the error stream (streamtype error, port, requestid), half-closes
  // it once accepted, then opens the data stream with the same headers. Returns the id.
  // `local_port` only appears in messages ("an error occurred forwarding L -> R: ...").
  RequestId Open(uint16_t remote_port, uint16_t local_port, ForwardCallbacks callbacks);

  // Local → remote bytes; false before on_ready, after CloseWrite, or for an unknown id.
  bool Write(RequestId id, std::string_view bytes);
  // Local EOF: half-closes the data stream (FIN). False when not open or already closed.
  bool CloseWrite(RequestId id);
  // The local side is done with the connection: resets its streams unless both finished, and
  // forgets it. No callbacks follow.
  void Close(RequestId id);

  size_t active() const { return conns_.size(); }
  RequestId next_request_id() const { return next_id_; }

 private:
  struct Conn;
  class Handler;

  Conn* Find(RequestId id);
  void OpenStreamOf(Conn* c, bool data);
  void OnReply(RequestId id, bool data, Status status);
  void HandleReply(RequestId id, bool data, Status status);
  void OnData(RequestId id, bool data, std::string_view bytes);
  void OnEnded(RequestId id, bool data, bool reset, std::string_view reason);
  void Fail(RequestId id, Error error);
  void ResetUnfinished(Conn* c);

  StreamConnection* conn_;
  RequestId next_id_ = 0;
  std::map<RequestId, std::unique_ptr<Conn>> conns_;
};

}  // namespace kproxy::portforward
