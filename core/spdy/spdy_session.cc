#include "core/spdy/spdy_session.h"

#include <vector>

namespace kproxy::spdy {

SpdySession::SpdySession(Role role, DecoderLimits limits)
    : role_(role),
      decoder_(limits),
      next_stream_id_(role == Role::kClient ? 1 : 2),
      next_ping_id_(role == Role::kClient ? 1 : 2) {}

SpdySession::~SpdySession() = default;

void SpdySession::Emit(SessionEvent event) {
  if (on_event_) on_event_(event);
}

bool SpdySession::IsPeerId(uint32_t id) const {
  bool odd = (id & 1) != 0;
  return role_ == Role::kClient ? !odd : odd;
}

bool SpdySession::WasOpened(StreamId id) const {
  return IsPeerId(id) ? id <= last_peer_stream_id_ : id < next_stream_id_;
}

Status SpdySession::Receive(std::string_view bytes) {
  if (failed_) return error_;
  auto on_frame = [this](Frame&& f) {
    if (!failed_) OnFrame(std::move(f));
  };
  Status st = streamed_data_ ? decoder_.Feed(bytes, on_frame,
                                             [this](const DataPiece& piece) {
                                               if (!failed_) OnDataPiece(piece);
                                             })
                             : decoder_.Feed(bytes, on_frame);
  if (!st.ok() && !failed_) FatalError(st.error().message);
  return failed_ ? error_ : Status::Ok();
}

void SpdySession::TakeOutputInto(std::string& out) {
  out.clear();
  out.swap(output_);
}

std::string SpdySession::TakeOutput() {
  std::string out;
  out.swap(output_);
  return out;
}

void SpdySession::FatalError(std::string reason) {
  if (failed_) return;
  failed_ = true;
  error_ = MakeError(ErrorCode::kProtocol, reason);
  if (!goaway_sent_) {
    goaway_sent_ = true;
    output_ += FrameEncoder::GoAway(last_peer_stream_id_, GoAwayStatus::kProtocolError);
  }
  // Every stream ends with the session; handlers hear it once.
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, s] : streams) {
    if (!s.replied && s.on_reply) s.on_reply(MakeError(ErrorCode::kProtocol, reason));
    if (s.handler) s.handler->OnReset("spdy session failed: " + reason);
  }
  SessionEvent ev{SessionEvent::Kind::kProtocolError, reason};
  Emit(ev);
}

void SpdySession::StreamError(StreamId id, RstStatus status, std::string reason) {
  output_ += FrameEncoder::RstStream(id, status);
  auto it = streams_.find(id);
  if (it != streams_.end()) {
    Stream s = std::move(it->second);
    streams_.erase(it);
    if (!s.replied && s.on_reply) s.on_reply(MakeError(ErrorCode::kProtocol, reason));
    if (s.handler) s.handler->OnReset(reason);
  }
  SessionEvent ev{SessionEvent::Kind::kStreamError, reason};
  ev.stream_id = id;
  ev.rst_status = static_cast<uint32_t>(status);
  Emit(ev);
}

void SpdySession::MaybeForget(StreamId id) {
  auto it = streams_.find(id);
  if (it != streams_.end() && it->second.local_fin && it->second.remote_fin) streams_.erase(it);
}

void SpdySession::OnFrame(Frame&& f) {
  switch (f.type) {
    case FrameType::kSynStream:
      return OnSynStream(f);
    case FrameType::kSynReply:
      return OnSynReply(f);
    case FrameType::kData:
      return OnData(f);
    case FrameType::kRstStream:
      return OnRstStream(f);
    case FrameType::kPing:
      return OnPing(f);
    case FrameType::kGoAway:
      return OnGoAway(f);
    case FrameType::kHeaders:
      return OnHeaders(f);
    case FrameType::kSettings:
    case FrameType::kWindowUpdate:
      // No flow control: spdystream never enforces windows, so neither do we (a
      // spec-following sender would stall after 64 KiB against it).
      return;
  }
}

void SpdySession::OnSynStream(Frame& f) {
  StreamId id = f.stream_id;
  if (!IsPeerId(id))
    return FatalError("SYN_STREAM with stream id " + std::to_string(id) + " of our own parity");
  if (id <= last_peer_stream_id_)
    return FatalError("SYN_STREAM id " + std::to_string(id) + " not above previous " +
                      std::to_string(last_peer_stream_id_));
  last_peer_stream_id_ = id;
  if (goaway_sent_) {
    // After our GOAWAY new streams are refused (§2.6.6).
    output_ += FrameEncoder::RstStream(id, RstStatus::kRefusedStream);
    return;
  }
  Stream& s = streams_[id];
  s.remote_fin = f.fin();
  s.local_fin = (f.flags & kFlagUnidirectional) != 0;
  StreamHandler* handler = accept_ ? accept_(id, f.headers) : nullptr;
  auto it = streams_.find(id);
  if (it == streams_.end()) return;  // reset from inside the accept handler
  if (handler == nullptr) {
    streams_.erase(it);
    output_ += FrameEncoder::RstStream(id, RstStatus::kRefusedStream);
    return;
  }
  it->second.handler = handler;
  // SYN_REPLY goes out before any data: spdystream drops data that precedes it.
  auto reply = encoder_.SynReply(id, StreamHeaders{});
  if (!reply.ok()) return FatalError(reply.error().message);
  output_ += *reply;
  it->second.replied = true;
  std::string pending = std::move(it->second.pending);
  it->second.pending.clear();
  bool pending_fin = it->second.pending_fin;
  it->second.pending_fin = false;
  if (!pending.empty()) Write(id, pending);
  if (pending_fin) CloseWrite(id);
  if (streams_.find(id) == streams_.end()) return;
  if (f.fin()) {
    handler->OnRemoteClose();
    MaybeForget(id);
  }
}

void SpdySession::OnSynReply(Frame& f) {
  auto it = streams_.find(f.stream_id);
  if (it == streams_.end()) {
    if (WasOpened(f.stream_id)) return;  // already closed or reset by us: ignore
    return StreamError(f.stream_id, RstStatus::kInvalidStream, "SYN_REPLY for unknown stream");
  }
  if (!it->second.local || it->second.replied)
    return StreamError(f.stream_id, RstStatus::kStreamInUse, "duplicate SYN_REPLY");
  it->second.replied = true;
  StreamId id = f.stream_id;
  auto on_reply = std::move(it->second.on_reply);
  if (on_reply) on_reply(Status::Ok());
  if (f.fin()) RemoteFin(id);
}

void SpdySession::RemoteFin(StreamId id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  it->second.remote_fin = true;
  StreamHandler* h = it->second.handler;
  if (h) h->OnRemoteClose();
  MaybeForget(id);
}

void SpdySession::OnData(Frame& f) {
  DataPiece piece;
  piece.stream_id = f.stream_id;
  piece.flags = f.flags;
  piece.bytes = f.data;
  piece.first = piece.last = true;
  OnDataPiece(piece);
}

void SpdySession::OnDataPiece(const DataPiece& piece) {
  StreamId id = piece.stream_id;
  if (piece.first) {
    // The frame's stream is checked once, at its first piece; later pieces follow that verdict.
    data_stream_ok_ = false;
    auto it = streams_.find(id);
    if (it == streams_.end()) {
      // Data racing our RST_STREAM is normal; data for a stream never opened is an error.
      if (WasOpened(id)) return;
      return StreamError(id, RstStatus::kInvalidStream,
                         "DATA on unknown stream " + std::to_string(id));
    }
    if (it->second.remote_fin)
      return StreamError(id, RstStatus::kStreamAlreadyClosed,
                         "DATA after FIN on stream " + std::to_string(id));
    data_stream_ok_ = true;
  }
  if (!data_stream_ok_) return;
  if (!piece.bytes.empty()) {
    // Looked up per piece: a handler may reset or close streams from inside OnData.
    auto it = streams_.find(id);
    if (it == streams_.end()) {
      data_stream_ok_ = false;
      return;
    }
    if (it->second.handler) it->second.handler->OnData(piece.bytes);
  }
  if (piece.fin()) RemoteFin(id);
}

void SpdySession::OnRstStream(const Frame& f) {
  auto it = streams_.find(f.stream_id);
  if (it == streams_.end()) return;  // finished or reset already: nothing to do
  Stream s = std::move(it->second);
  streams_.erase(it);
  std::string reason = "stream reset by peer (status " + std::to_string(f.status) + ")";
  if (!s.replied && s.on_reply) s.on_reply(MakeError(ErrorCode::kProtocol, reason));
  if (s.handler) s.handler->OnReset(reason);
}

void SpdySession::OnPing(const Frame& f) {
  if (IsPeerId(f.ping_id)) {
    output_ += FrameEncoder::Ping(f.ping_id);  // echo unchanged
    return;
  }
  if (pings_in_flight_.erase(f.ping_id) == 0) return;  // not ours: ignore (§2.6.5)
  SessionEvent ev{SessionEvent::Kind::kPingReply, "ping reply"};
  ev.ping_id = f.ping_id;
  Emit(ev);
}

void SpdySession::OnGoAway(const Frame& f) {
  goaway_received_ = true;
  // The peer closes the connection after GOAWAY, so every stream is over. A stream the peer
  // already replied to was processed whatever last_good says (spdystream's Close() reports
  // its last received id minus 2): it ends with OnRemoteClose; only unanswered streams of
  // ours above last_good were refused.
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, s] : streams) {
    bool refused = s.local && !s.replied && id > f.last_good_stream_id;
    std::string reason = refused ? "stream refused by GOAWAY" : "session ended by GOAWAY";
    if (!s.replied && s.on_reply) s.on_reply(MakeError(ErrorCode::kUnavailable, reason));
    if (!s.handler) continue;
    if (!s.replied)
      s.handler->OnReset(reason);
    else if (!s.remote_fin)
      s.handler->OnRemoteClose();
  }
  SessionEvent ev{SessionEvent::Kind::kGoAway, "peer sent GOAWAY"};
  ev.last_good_stream_id = f.last_good_stream_id;
  ev.goaway_status = f.status;
  Emit(ev);
}

void SpdySession::OnHeaders(const Frame& f) {
  auto it = streams_.find(f.stream_id);
  if (it == streams_.end()) {
    if (WasOpened(f.stream_id)) return;
    return StreamError(f.stream_id, RstStatus::kInvalidStream, "HEADERS for unknown stream");
  }
  if (f.fin()) RemoteFin(f.stream_id);
}

uint32_t SpdySession::SendPing() {
  uint32_t id = next_ping_id_;
  next_ping_id_ += 2;
  pings_in_flight_.insert(id);
  output_ += FrameEncoder::Ping(id);
  return id;
}

void SpdySession::SendGoAway(GoAwayStatus status) {
  if (goaway_sent_) return;
  goaway_sent_ = true;
  output_ += FrameEncoder::GoAway(last_peer_stream_id_, status);
}

void SpdySession::EndSession() {
  if (failed_) return;
  std::vector<StreamId> unfinished;
  for (const auto& [id, s] : streams_)
    if (!s.local_fin || !s.remote_fin) unfinished.push_back(id);
  for (StreamId id : unfinished) output_ += FrameEncoder::RstStream(id, RstStatus::kCancel);
  streams_.clear();
  SendGoAway(GoAwayStatus::kOk);
}

StreamId SpdySession::OpenStream(const StreamHeaders& headers, StreamHandler* handler,
                                 std::function<void(Status)> on_reply) {
  if (IsClosing()) {
    if (on_reply) on_reply(MakeError(ErrorCode::kUnavailable, "spdy session is closing"));
    return 0;
  }
  if (next_stream_id_ > kStreamIdMask) {
    if (on_reply) on_reply(MakeError(ErrorCode::kUnavailable, "spdy stream ids exhausted"));
    return 0;
  }
  StreamId id = next_stream_id_;
  auto syn = encoder_.SynStream(id, headers);
  if (!syn.ok()) {
    if (on_reply) on_reply(syn.error());
    return 0;
  }
  next_stream_id_ += 2;
  output_ += *syn;
  Stream& s = streams_[id];
  s.handler = handler;
  s.on_reply = std::move(on_reply);
  s.local = true;
  return id;
}

bool SpdySession::Write(StreamId id, std::string_view bytes) {
  auto it = streams_.find(id);
  if (failed_ || it == streams_.end() || it->second.local_fin || it->second.pending_fin)
    return false;
  if (!it->second.local && !it->second.replied) {
    it->second.pending.append(bytes);
    return true;
  }
  // Everything is queued at once: no send window is ever waited for.
  while (!bytes.empty()) {
    size_t n = std::min(bytes.size(), kMaxDataFrameSend);
    FrameEncoder::AppendData(output_, id, bytes.substr(0, n), 0);
    bytes.remove_prefix(n);
  }
  return true;
}

bool SpdySession::CloseWrite(StreamId id) {
  auto it = streams_.find(id);
  if (failed_ || it == streams_.end() || it->second.local_fin || it->second.pending_fin)
    return false;
  if (!it->second.local && !it->second.replied) {
    it->second.pending_fin = true;
    return true;
  }
  FrameEncoder::AppendData(output_, id, {}, kFlagFin);
  it->second.local_fin = true;
  MaybeForget(id);
  return true;
}

void SpdySession::Reset(StreamId id) {
  auto it = streams_.find(id);
  if (failed_ || it == streams_.end()) return;
  streams_.erase(it);
  output_ += FrameEncoder::RstStream(id, RstStatus::kCancel);
}

}  // namespace kproxy::spdy
