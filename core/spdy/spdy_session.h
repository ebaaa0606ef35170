// SpdySession: a SPDY/3.1 session as spdystream (kubelet, API server, kubectl) speaks it, in
// the client or server role, behind kproxy::StreamConnection. No I/O: Receive() takes bytes
// read from the socket and dispatches them to stream handlers; TakeOutput() hands over the
// bytes to write. Interop rules (docs/protocols.md §3): no flow control (never waits for a
// window, never sends WINDOW_UPDATE/SETTINGS), ids odd for the client and even for the
// server, SYN_REPLY before any data, echo peer pings unchanged, never send unknown frames.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "core/base/result.h"
#include "core/spdy/spdy_frame.h"
#include "core/stream/stream_connection.h"

namespace kproxy::spdy {

enum class Role { kClient, kServer };

// Session-level happenings reported to the owner.
struct SessionEvent {
  enum class Kind {
    kProtocolError,  // fatal: the session sent GOAWAY(PROTOCOL_ERROR) and is dead
    kStreamError,    // one stream was reset by us (RST_STREAM `rst_status`), session lives
    kGoAway,         // the peer sent GOAWAY(last_good_stream_id, status)
    kPingReply,      // the peer answered our PING `ping_id`
  };
  Kind kind;
  std::string reason;
  StreamId stream_id = 0;
  uint32_t rst_status = 0;
  uint32_t last_good_stream_id = 0;
  uint32_t goaway_status = 0;
  uint32_t ping_id = 0;
};

class SpdySession : public StreamConnection {
 public:
  using EventFn = std::function<void(const SessionEvent&)>;
  explicit SpdySession(Role role, DecoderLimits limits = {});
  ~SpdySession() override;

  void SetEventHandler(EventFn on_event) { on_event_ = std::move(on_event); }
  // Call before the first Receive(). On: DATA reaches handlers in pieces as it arrives, as
  // views into Receive()'s input, never copied (kproxy's client, which reads in large
  // batches). Off (default): one OnData per DATA frame, buffered by the decoder; better for
  // an owner that reads one TLS record at a time and makes a syscall per OnData (the sim).
  void SetStreamedData(bool on) { streamed_data_ = on; }

  // Consumes bytes read from the connection (any split); dispatches frames to handlers and
  // queues any replies. Returns the sticky fatal error once the peer broke the protocol.
  Status Receive(std::string_view bytes);
  // Returns and clears the bytes queued for the connection.
  std::string TakeOutput();
  // The same into `out` (which must be empty): swaps buffers, so the session keeps `out`'s
  // capacity for the next frames instead of allocating.
  void TakeOutputInto(std::string& out);
  // True once a fatal error happened or a GOAWAY was sent or received.
  bool IsClosing() const { return failed_ || goaway_sent_ || goaway_received_; }
  bool Failed() const { return failed_; }

  // Sends a PING with the next id of our parity; returns that id. on PING echo a kPingReply
  // event follows (the keepalive's liveness signal).
  uint32_t SendPing();
  // Sends GOAWAY(last stream id the peer opened, status); no new streams after it.
  void SendGoAway(GoAwayStatus status);
  // Ends the session the kubelet way: RST_STREAM CANCEL for every stream not finished both
  // ways, then GOAWAY(OK). The owner closes the socket after flushing TakeOutput().
  void EndSession();
  // Streams still tracked (not finished both ways, not reset).
  size_t OpenStreamCount() const { return streams_.size(); }

  // StreamConnection.
  StreamId OpenStream(const StreamHeaders& headers, StreamHandler* handler,
                      std::function<void(Status)> on_reply) override;
  void SetAcceptHandler(AcceptFn accept) override { accept_ = std::move(accept); }
  bool Write(StreamId id, std::string_view bytes) override;
  bool CloseWrite(StreamId id) override;
  void Reset(StreamId id) override;
  bool SupportsHalfClose() const override { return true; }
  size_t BufferedBytes() const override { return output_.size(); }

 private:
  struct Stream {
    StreamHandler* handler = nullptr;
    std::function<void(Status)> on_reply;
    bool local = false;    // we opened it
    bool replied = false;  // SYN_REPLY sent (peer stream) or received (our stream)
    bool local_fin = false;
    bool remote_fin = false;
    // A peer stream's writes made while its accept handler runs, sent after SYN_REPLY.
    std::string pending;
    bool pending_fin = false;
  };

  void OnFrame(Frame&& frame);
  void OnSynStream(Frame& frame);
  void OnSynReply(Frame& frame);
  void OnData(Frame& frame);
  void OnDataPiece(const DataPiece& piece);
  void OnRstStream(const Frame& frame);
  void OnPing(const Frame& frame);
  void OnGoAway(const Frame& frame);
  void OnHeaders(const Frame& frame);
  void RemoteFin(StreamId id);
  void MaybeForget(StreamId id);
  void StreamError(StreamId id, RstStatus status, std::string reason);
  void FatalError(std::string reason);
  bool IsPeerId(uint32_t id) const;
  bool WasOpened(StreamId id) const;
  void Emit(SessionEvent event);

  Role role_;
  FrameDecoder decoder_;
  FrameEncoder encoder_;
  std::string output_;
  std::map<StreamId, Stream> streams_;
  AcceptFn accept_;
  EventFn on_event_;
  StreamId next_stream_id_;
  StreamId last_peer_stream_id_ = 0;
  uint32_t next_ping_id_;
  std::set<uint32_t> pings_in_flight_;
  bool failed_ = false;
  bool goaway_sent_ = false;
  bool goaway_received_ = false;
  bool streamed_data_ = false;
  bool data_stream_ok_ = false;  // the DATA frame being streamed goes to a live stream
  Status error_;
};

}  // namespace kproxy::spdy
