#include "core/remotecommand/stream_protocol.h"

#include <cstdio>

#include "core/remotecommand/protocol_versions.h"

namespace kproxy::remotecommand {
namespace {

// Resize events queued before the streams exist; only the latest sizes matter, but order is
// kept (attach primes W+1,H+1 then W,H).
constexpr size_t kMaxPendingResizes = 16;

}  // namespace

class StreamProtocol::Stream : public StreamHandler {
 public:
  Stream(StreamProtocol* owner, Kind kind) : owner_(owner), kind_(kind) {}
  void OnData(std::string_view bytes) override { owner_->OnData(kind_, bytes); }
  void OnRemoteClose() override { owner_->OnEnded(kind_, false, ""); }
  void OnReset(std::string_view reason) override { owner_->OnEnded(kind_, true, reason); }

  StreamId id = 0;
  bool id_known = false;  // OpenStream returned (a reply may come before that)
  bool replied = false;
  bool ended = false;  // remote close or reset
  bool reset = false;

 private:
  StreamProtocol* owner_;
  Kind kind_;
};

namespace {

const char* TypeOf(int kind) {
  static constexpr const char* kTypes[] = {streamtype::kError, streamtype::kStdin,
                                           streamtype::kStdout, streamtype::kStderr,
                                           streamtype::kResize};
  return kTypes[kind];
}

}  // namespace

std::string EncodeResize(uint16_t width, uint16_t height) {
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "{\"Width\":%u,\"Height\":%u}\n", unsigned{width},
                        unsigned{height});
  return std::string(buf, static_cast<size_t>(n));
}

StreamProtocol::StreamProtocol(StreamConnection* conn, StreamOptions options,
                               ExecCallbacks callbacks)
    : conn_(conn), options_(options), callbacks_(std::move(callbacks)) {}

StreamProtocol::~StreamProtocol() = default;

std::vector<StreamProtocol::Kind> StreamProtocol::Plan() const {
  std::vector<Kind> plan{Kind::kError};
  if (options_.stdin) plan.push_back(Kind::kStdin);
  if (options_.stdout) plan.push_back(Kind::kStdout);
  if (options_.stderr && !options_.tty) plan.push_back(Kind::kStderr);
  if (options_.tty && HasResizeStream()) plan.push_back(Kind::kResize);
  return plan;
}

std::vector<std::string> StreamProtocol::StreamTypes() const {
  std::vector<std::string> types;
  for (Kind k : Plan()) types.emplace_back(TypeOf(static_cast<int>(k)));
  return types;
}

void StreamProtocol::Start() {
  if (started_) return;
  started_ = true;
  plan_ = Plan();
  OpenNext();
}

void StreamProtocol::OpenNext() {
  // Channel transports reply inside OpenStream; the loop (not recursion) then opens the next
  // stream once OpenStream has returned the id.
  if (opening_) return;
  opening_ = true;
  while (!done_ && !awaiting_reply_ && next_ < plan_.size()) {
    size_t index = next_;
    Kind kind = plan_[index];
    auto& slot = streams_[static_cast<size_t>(kind)];
    slot = std::make_unique<Stream>(this, kind);
    Stream* stream = slot.get();
    awaiting_reply_ = true;
    StreamHeaders headers;
    headers.Set("streamtype", TypeOf(static_cast<int>(kind)));
    StreamId id =
        conn_->OpenStream(headers, stream, [this, index](Status s) { OnReply(index, s); });
    stream->id = id;
    stream->id_known = true;
  }
  opening_ = false;
  if (!done_ && !awaiting_reply_ && next_ == plan_.size() && !ready_) BecomeReady();
}

void StreamProtocol::OnReply(size_t index, Status status) {
  if (done_ || index != next_ || !awaiting_reply_) return;
  Kind kind = plan_[index];
  if (!status.ok()) {
    Get(kind)->reset = true;  // a refused stream is gone: nothing to reset
    Abort(MakeError(status.error().code, std::string("error creating ") +
                                             TypeOf(static_cast<int>(kind)) +
                                             " stream: " + status.error().message));
    return;
  }
  Get(kind)->replied = true;
  awaiting_reply_ = false;
  ++next_;
  OpenNext();
}

void StreamProtocol::BecomeReady() {
  ready_ = true;
  Stream* stdin_stream = Get(Kind::kStdin);
  if (stdin_closed_ && stdin_stream && HalfClosesStdin() && conn_->SupportsHalfClose())
    conn_->CloseWrite(stdin_stream->id);
  if (Stream* resize = Get(Kind::kResize)) {
    while (!pending_resizes_.empty()) {
      conn_->Write(resize->id, pending_resizes_.front());
      pending_resizes_.pop_front();
    }
  }
  pending_resizes_.clear();
  if (callbacks_.on_ready) callbacks_.on_ready();
}

bool StreamProtocol::WriteStdin(std::string_view bytes) {
  Stream* s = Get(Kind::kStdin);
  if (!ready_ || done_ || stdin_closed_ || s == nullptr) return false;
  if (bytes.empty()) return true;  // an empty message means nothing on any transport
  return conn_->Write(s->id, bytes);
}

bool StreamProtocol::CloseStdin() {
  if (!options_.stdin || stdin_closed_ || done_) return false;
  stdin_closed_ = true;
  bool half_close = HalfClosesStdin() && conn_->SupportsHalfClose();
  if (!half_close) return false;  // v1 and WebSocket v4: the remote stdin stays open
  if (!ready_) return true;       // BecomeReady sends it once the stream exists
  return conn_->CloseWrite(Get(Kind::kStdin)->id);
}

bool StreamProtocol::Resize(uint16_t width, uint16_t height) {
  if (!options_.tty || !HasResizeStream() || done_) return false;
  std::string message = EncodeResize(width, height);
  if (!ready_) {
    if (pending_resizes_.size() == kMaxPendingResizes) pending_resizes_.pop_front();
    pending_resizes_.push_back(std::move(message));
    return true;
  }
  return conn_->Write(Get(Kind::kResize)->id, message);
}

void StreamProtocol::OnData(Kind kind, std::string_view bytes) {
  if (done_) return;
  switch (kind) {
    case Kind::kError:
      if (error_payload_.size() + bytes.size() > kMaxErrorStreamBytes) {
        Abort(MakeError(ErrorCode::kProtocol, "error stream protocol error: more than " +
                                                  std::to_string(kMaxErrorStreamBytes) +
                                                  " bytes on the error stream"));
        return;
      }
      error_payload_.append(bytes);
      break;
    case Kind::kStdout:
      if (callbacks_.on_stdout) callbacks_.on_stdout(bytes);
      break;
    case Kind::kStderr:
      if (callbacks_.on_stderr) callbacks_.on_stderr(bytes);
      break;
    case Kind::kStdin:
    case Kind::kResize:
      break;  // the server never writes these
  }
}

void StreamProtocol::OnEnded(Kind kind, bool reset, std::string_view reason) {
  Stream* s = Get(kind);
  if (done_ || s == nullptr || s->ended) return;
  s->ended = true;
  s->reset = reset;
  if (kind == Kind::kError && reset) {
    error_reset_ = true;
    error_reset_reason_ = std::string(reason);
  }
  // client-go closes its side of stdin once the server closed its side (v2+), so that both
  // directions of the stream finish.
  if (kind == Kind::kStdin && !reset && HalfClosesStdin() && !stdin_closed_) {
    stdin_closed_ = true;
    if (ready_ && conn_->SupportsHalfClose()) conn_->CloseWrite(s->id);
  }
  MaybeFinish();
}

void StreamProtocol::MaybeFinish() {
  Stream* error = Get(Kind::kError);
  if (done_ || error == nullptr || !error->ended) return;
  // Output is drained first: every stdout/stderr stream that exists must have ended.
  // Streams never created or never accepted carry nothing.
  for (Kind k : {Kind::kStdout, Kind::kStderr}) {
    Stream* s = Get(k);
    if (s && s->replied && !s->ended) return;
  }
  if (error_reset_ && error_payload_.empty()) {
    Finish(
        MakeError(ErrorCode::kUnavailable,
                  "connection lost before the command's status arrived: " + error_reset_reason_));
    return;
  }
  Finish(DecodeError(error_payload_));
}

void StreamProtocol::Abort(Error error) {
  if (done_) return;
  for (auto& s : streams_)
    if (s && s->id_known && !s->reset) conn_->Reset(s->id);
  Finish(std::move(error));
}

void StreamProtocol::Finish(Result<ExecResult> result) {
  done_ = true;
  if (callbacks_.on_done) callbacks_.on_done(std::move(result));
}

std::unique_ptr<StreamProtocol> NewStreamProtocol(ProtocolVersion version, StreamConnection* conn,
                                                  StreamOptions options, ExecCallbacks callbacks) {
  switch (version) {
    case ProtocolVersion::kV1:
      return std::make_unique<StreamProtocolV1>(conn, options, std::move(callbacks));
    case ProtocolVersion::kV2:
      return std::make_unique<StreamProtocolV2>(conn, options, std::move(callbacks));
    case ProtocolVersion::kV3:
      return std::make_unique<StreamProtocolV3>(conn, options, std::move(callbacks));
    case ProtocolVersion::kV4:
      return std::make_unique<StreamProtocolV4>(conn, options, std::move(callbacks));
    case ProtocolVersion::kV5:
      return std::make_unique<StreamProtocolV5>(conn, options, std::move(callbacks));
  }
  return nullptr;
}

}  // namespace kproxy::remotecommand
