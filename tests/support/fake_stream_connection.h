// A StreamConnection for tests: records every call in order and lets the test play the peer
// (accept or refuse streams, deliver data, close, reset, open streams towards us).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/stream/stream_connection.h"

namespace kproxy::test {

class FakeStreamConnection : public StreamConnection {
 public:
  struct Options {
    bool supports_half_close = true;  // SPDY and WebSocket v5: true; WebSocket v1-v4: false
    // Channel transports accept a stream inside OpenStream, before it returns the id.
    bool reply_synchronously = false;
    StreamId first_id = 1;  // SPDY client ids: 1, 3, 5, ...
    StreamId id_step = 2;
  };

  struct Call {
    enum class Kind { kOpen, kWrite, kCloseWrite, kReset };
    Kind kind;
    StreamId id;
    std::string data;  // kWrite: the bytes; kOpen: the streamtype header
  };

  struct Stream {
    StreamId id = 0;
    StreamHeaders headers;
    StreamHandler* handler = nullptr;
    std::function<void(Status)> on_reply;
    bool replied = false;
    bool local = true;  // opened by us (OpenStream) rather than by the peer (PeerOpen)
    std::string written;
    bool write_closed = false;
    bool reset = false;
  };

  FakeStreamConnection();
  explicit FakeStreamConnection(Options options);

  // StreamConnection.
  StreamId OpenStream(const StreamHeaders& headers, StreamHandler* handler,
                      std::function<void(Status)> on_reply) override;
  void SetAcceptHandler(AcceptFn accept) override { accept_ = std::move(accept); }
  bool Write(StreamId id, std::string_view bytes) override;
  bool CloseWrite(StreamId id) override;
  void Reset(StreamId id) override;
  bool SupportsHalfClose() const override { return options_.supports_half_close; }
  size_t BufferedBytes() const override { return buffered_; }

  // Playing the peer.
  void Reply(StreamId id, Status status = Status::Ok());   // runs the stream's on_reply
  void Deliver(StreamId id, std::string_view bytes);       // handler->OnData
  void RemoteClose(StreamId id);                           // handler->OnRemoteClose
  void RemoteReset(StreamId id, std::string_view reason);  // handler->OnReset
  // The peer opens a stream: asks the accept handler; returns whether it was accepted.
  bool PeerOpen(StreamId id, const StreamHeaders& headers);

  // What happened.
  const std::vector<Call>& calls() const { return calls_; }
  const std::vector<Stream>& streams() const { return streams_; }
  Stream* Find(StreamId id);
  // The most recently opened local stream with this streamtype (and requestid, when given).
  Stream* FindByType(std::string_view type, std::optional<std::string> request_id = {});
  // The streamtype of each local stream, in opening order.
  std::vector<std::string> OpenedTypes() const;
  // Local streams opened but not yet replied to.
  size_t PendingReplies() const;
  void ClearCalls() { calls_.clear(); }

 private:
  Options options_;
  AcceptFn accept_;
  std::vector<Stream> streams_;
  std::vector<Call> calls_;
  StreamId next_id_;
  size_t buffered_ = 0;
};

}  // namespace kproxy::test
