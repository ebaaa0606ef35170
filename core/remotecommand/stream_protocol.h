// The client side of one remotecommand session over a StreamConnection (SPDY or WebSocket
// channels): creates the streams, moves stdin/resize in and stdout/stderr out, and turns the
// error stream into a typed result. No I/O: everything goes through the connection and the
// callbacks. Version differences live in small subclasses (protocol_v1.cc ... protocol_v5.cc),
// as in client-go tools/remotecommand.
//
// Lifetime: the object must outlive every stream it opened on the connection. Callbacks may
// call back into the object (write stdin, resize, abort) but must not destroy it.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"
#include "core/remotecommand/error_decoder.h"
#include "core/remotecommand/protocol_version.h"
#include "core/remotecommand/stream_options.h"
#include "core/stream/stream_connection.h"

namespace kproxy::remotecommand {

struct ExecCallbacks {
  std::function<void()> on_ready;                   // every stream exists: data may flow
  std::function<void(std::string_view)> on_stdout;  // remote stdout bytes
  std::function<void(std::string_view)> on_stderr;  // remote stderr bytes
  // Exactly once, after stdout/stderr ended and the error stream was read to its end.
  std::function<void(Result<ExecResult>)> on_done;
};

class StreamProtocol {
 public:
  StreamProtocol(StreamConnection* conn, StreamOptions options, ExecCallbacks callbacks);
  virtual ~StreamProtocol();
  StreamProtocol(const StreamProtocol&) = delete;
  StreamProtocol& operator=(const StreamProtocol&) = delete;

  virtual ProtocolVersion version() const = 0;

  // The "streamtype" values this version creates for the options, in creation order:
  // error, stdin (if asked), stdout (if asked), stderr (if asked and no tty), resize (tty, v3+).
  std::vector<std::string> StreamTypes() const;

  // Opens the streams one at a time, each after the previous one's reply.
  void Start();

  bool ready() const { return ready_; }
  bool done() const { return done_; }

  // Consumes stdin bytes; false before ready, without a stdin stream or after CloseStdin.
  bool WriteStdin(std::string_view bytes);
  // Local stdin reached EOF. Returns true when a half-close went on the wire (v2+ on a
  // transport that supports it); otherwise the remote stdin just stays open (v1, WebSocket v4).
  bool CloseStdin();
  // A terminal size event: {"Width":W,"Height":H}\n on the resize stream. False when the
  // session has no resize stream (no tty, or v1/v2). Events before ready are queued in order.
  bool Resize(uint16_t width, uint16_t height);
  // Resets every unfinished stream and delivers `error` (unless already done).
  void Abort(Error error);

 protected:
  // What differs between versions.
  virtual bool HasResizeStream() const = 0;  // v3+
  virtual bool HalfClosesStdin() const = 0;  // v2+
  virtual Result<ExecResult> DecodeError(std::string_view payload) const = 0;

 private:
  enum class Kind { kError, kStdin, kStdout, kStderr, kResize };
  class Stream;
  friend class Stream;

  std::vector<Kind> Plan() const;
  void OpenNext();
  void OnReply(size_t index, Status status);
  void OnData(Kind kind, std::string_view bytes);
  void OnEnded(Kind kind, bool reset, std::string_view reason);
  void BecomeReady();
  void MaybeFinish();
  void Finish(Result<ExecResult> result);
  Stream* Get(Kind kind) { return streams_[static_cast<size_t>(kind)].get(); }

  StreamConnection* conn_;
  StreamOptions options_;
  ExecCallbacks callbacks_;
  std::vector<Kind> plan_;
  std::array<std::unique_ptr<Stream>, 5> streams_;
  size_t next_ = 0;  // index in plan_ of the stream being opened
  bool awaiting_reply_ = false;
  bool opening_ = false;  // inside OpenNext: a synchronous reply must not recurse
  bool started_ = false;
  bool ready_ = false;
  bool done_ = false;
  bool stdin_closed_ = false;
  std::string error_payload_;
  bool error_reset_ = false;
  std::string error_reset_reason_;
  std::deque<std::string> pending_resizes_;
};

// Creates the client for a negotiated version.
std::unique_ptr<StreamProtocol> NewStreamProtocol(ProtocolVersion version, StreamConnection* conn,
                                                  StreamOptions options, ExecCallbacks callbacks);

// The resize message client-go's json.Encoder writes: {"Width":W,"Height":H}\n.
std::string EncodeResize(uint16_t width, uint16_t height);

}  // namespace kproxy::remotecommand
