// SPDY/3.1 frames: typed frames, an incremental decoder over a byte stream and an encoder.
// No I/O: bytes in, frames out through a callback; frames in, bytes out.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"
#include "core/spdy/spdy_format.h"
#include "core/spdy/spdy_headers.h"
#include "core/stream/stream_connection.h"

namespace kproxy::spdy {

enum class FrameType {
  kData,
  kSynStream,
  kSynReply,
  kRstStream,
  kSettings,
  kPing,
  kGoAway,
  kHeaders,
  kWindowUpdate,
};
const char* FrameTypeName(FrameType type);

struct Setting {
  uint8_t flags = 0;
  uint32_t id = 0;  // 24 bits
  uint32_t value = 0;
};

// One decoded or to-be-encoded frame. Which fields mean something depends on `type`:
//  DATA: stream_id, flags (FIN), data.  SYN_STREAM: stream_id, assoc_id, priority (0-7), slot,
//  flags (FIN, UNIDIRECTIONAL), headers.  SYN_REPLY/HEADERS: stream_id, flags, headers.
//  RST_STREAM: stream_id, status.  SETTINGS: flags, settings.  PING: ping_id.
//  GOAWAY: last_good_stream_id, status.  WINDOW_UPDATE: stream_id, delta.
struct Frame {
  FrameType type = FrameType::kData;
  uint8_t flags = 0;
  uint32_t stream_id = 0;
  uint32_t assoc_id = 0;
  uint8_t priority = 0;
  uint8_t slot = 0;
  StreamHeaders headers;
  std::string data;
  uint32_t status = 0;
  uint32_t ping_id = 0;
  uint32_t last_good_stream_id = 0;
  uint32_t delta = 0;
  std::vector<Setting> settings;

  bool fin() const { return (flags & kFlagFin) != 0; }
};

struct DecoderLimits {
  uint32_t max_frame_payload = kDefaultMaxFramePayload;  // DATA and control payloads
  HeaderLimits headers;                                  // decompressed block, pair count
};

// A piece of a DATA frame's payload, delivered as it arrives without being copied: `bytes`
// views the caller's input and is valid only during the call. A frame's pieces come in order,
// the first with `first`, the last with `last` (a frame with an empty payload is one call
// with both set and empty bytes); no other frame is delivered in between.
struct DataPiece {
  uint32_t stream_id = 0;
  uint8_t flags = 0;  // the frame's flags (FIN), on every piece
  std::string_view bytes;
  bool first = false;
  bool last = false;
  bool fin() const { return last && (flags & kFlagFin) != 0; }
};

// Incremental frame decoder for one direction of a connection. Owns that direction's
// inflate context. Frames may be split anywhere and several may arrive in one call.
class FrameDecoder {
 public:
  using FrameFn = std::function<void(Frame&&)>;
  using DataFn = std::function<void(const DataPiece&)>;
  explicit FrameDecoder(DecoderLimits limits = {});

  // Consumes bytes; calls on_frame for every complete frame, in order. Unknown control
  // frame types are skipped (SPDY §2.2.1). Errors (kProtocol) are sticky: later calls return
  // the same error without consuming anything.
  Status Feed(std::string_view bytes, const FrameFn& on_frame);
  // The same, except that DATA frames go to on_data in pieces, never buffered nor copied
  // (the hot path); control frames still go to on_frame whole. The payload limit still
  // applies to DATA frames. Use one form for the decoder's whole life.
  Status Feed(std::string_view bytes, const FrameFn& on_frame, const DataFn& on_data);

  // True when no partial frame is buffered (a clean end of stream).
  bool AtFrameBoundary() const { return state_ == State::kHeader && header_.empty(); }
  // Frames skipped because their control type is unknown.
  uint64_t skipped_frames() const { return skipped_frames_; }

 private:
  enum class State { kHeader, kPayload, kSkip, kFailed };
  Status Fail(std::string message);
  Status FeedImpl(std::string_view bytes, const FrameFn& on_frame, const DataFn* on_data);
  Status StartFrame(bool streaming);
  Status FinishFrame(const FrameFn& on_frame);

  DecoderLimits limits_;
  HeaderDecompressor inflater_;
  State state_ = State::kHeader;
  std::string header_;   // the current frame's 8 header bytes as they arrive
  std::string payload_;  // the current frame's payload as it arrives (bounded by the limit)
  bool control_ = false;
  uint16_t control_type_ = 0;
  uint8_t flags_ = 0;
  uint32_t length_ = 0;
  uint32_t data_stream_id_ = 0;
  uint32_t skip_left_ = 0;
  uint32_t data_got_ = 0;  // streamed DATA: payload bytes delivered so far
  uint64_t skipped_frames_ = 0;
  Status error_;
};

// Frame encoder for one direction of a connection. Owns that direction's deflate context,
// so header-bearing frames must be encoded in the order they are sent.
class FrameEncoder {
 public:
  // Consumes a frame; returns its wire bytes. kInternal on zlib failure; kProtocol when a
  // field does not fit (payload over 16 MiB, ids over 31 bits).
  Result<std::string> Encode(const Frame& frame);

  // Shorthands for the frames kproxy sends.
  Result<std::string> SynStream(uint32_t stream_id, const StreamHeaders& headers,
                                uint8_t flags = 0);
  Result<std::string> SynReply(uint32_t stream_id, const StreamHeaders& headers, uint8_t flags = 0);
  static std::string Data(uint32_t stream_id, std::string_view data, uint8_t flags = 0);
  // Appends a DATA frame to `out` in place (no temporary). `data.size()` <= kMaxWireLength.
  static void AppendData(std::string& out, uint32_t stream_id, std::string_view data,
                         uint8_t flags = 0);
  static std::string RstStream(uint32_t stream_id, RstStatus status);
  static std::string Ping(uint32_t id);
  static std::string GoAway(uint32_t last_good_stream_id, GoAwayStatus status);
  static std::string WindowUpdate(uint32_t stream_id, uint32_t delta);

 private:
  HeaderCompressor deflater_;
};

}  // namespace kproxy::spdy
