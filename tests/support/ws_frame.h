// RFC 6455 frame codec for tests and the cluster simulator (production framing comes from
// libwebsockets). No I/O: bytes in, frames/messages out; bytes out from the encoder.
//
// Two layers, as in wslay: FrameDecoder turns bytes into frames (any split), MessageDecoder
// assembles fragmented data messages and passes control frames through, even between fragments.
// Text messages and close reasons must be UTF-8 (close 1007 otherwise).
// Errors are sticky and carry the close code the peer should be sent (RFC 6455 §7.4.1).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"

namespace kproxy::test::ws {

// Whose bytes the decoder reads: a server decodes client frames (which must be masked), a
// client decodes server frames (which must not be).
enum class Role { kClient, kServer };

enum class Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close codes used by the codec (RFC 6455 §7.4.1).
namespace close_code {
inline constexpr uint16_t kNormal = 1000;
inline constexpr uint16_t kProtocolError = 1002;
inline constexpr uint16_t kInvalidData = 1007;
inline constexpr uint16_t kMessageTooBig = 1009;
}  // namespace close_code

// RFC 6455 §5.5: control frames carry at most 125 payload bytes and are never fragmented.
inline constexpr size_t kMaxControlPayload = 125;

using MaskKey = std::array<uint8_t, 4>;

struct Frame {
  bool fin = true;
  uint8_t rsv = 0;  // RSV1..3 as bits 2..0
  Opcode opcode = Opcode::kBinary;
  bool masked = false;
  std::string payload;  // unmasked
};

// Encodes one frame. `mask` present → MASK bit set and payload masked with it (client role).
// Uses the minimal length encoding. Does not validate (tests use it to build bad frames too).
std::string EncodeFrame(Opcode opcode, std::string_view payload, bool fin = true,
                        std::optional<MaskKey> mask = std::nullopt, uint8_t rsv = 0);
// Encodes a close frame with `code` and `reason` (the reason is truncated to fit 125 bytes).
std::string EncodeClose(uint16_t code, std::string_view reason,
                        std::optional<MaskKey> mask = std::nullopt);

// RFC 3629 UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF).
bool IsValidUtf8(std::string_view s);

class FrameDecoder {
 public:
  // `reader` is the role of the endpoint that owns this decoder. Frames whose payload length
  // exceeds `max_payload` are rejected before any allocation (close 1009).
  explicit FrameDecoder(Role reader, size_t max_payload = 16 * 1024 * 1024);

  // Consumes all of `bytes`, appending each completed frame to `out`. Returns an error (and
  // stays failed) on a protocol violation; frames completed before it are still appended.
  Status Feed(std::string_view bytes, std::vector<Frame>* out);

  bool failed() const { return failed_; }
  // The close code to send the peer after a failure (1002 / 1009).
  uint16_t error_close_code() const { return error_code_; }

 private:
  Status Fail(uint16_t code, std::string message);
  Status ParseHeader();  // header_ complete → validates and sets up payload state

  enum class State { kHeader, kPayload };
  Role reader_;
  size_t max_payload_;
  State state_ = State::kHeader;
  uint8_t header_[14] = {};
  size_t header_len_ = 0;
  size_t header_need_ = 2;
  Frame frame_;
  uint64_t payload_len_ = 0;
  MaskKey mask_{};
  bool failed_ = false;
  uint16_t error_code_ = 0;
  std::string error_message_;
};

struct Message {
  enum class Kind { kText, kBinary, kClose, kPing, kPong };
  Kind kind = Kind::kBinary;
  std::string payload;                 // data, ping/pong payload; for close: the reason
  std::optional<uint16_t> close_code;  // close frames only; absent for an empty close
};

class MessageDecoder {
 public:
  // Data messages (after assembly) larger than `max_message` fail with close 1009.
  explicit MessageDecoder(Role reader, size_t max_message = 16 * 1024 * 1024);

  // Consumes `bytes`; appends completed messages (control frames as their own messages, in
  // arrival order). Sticky errors as FrameDecoder.
  Status Feed(std::string_view bytes, std::vector<Message>* out);

  bool failed() const { return failed_; }
  uint16_t error_close_code() const { return error_code_; }

 private:
  Status Fail(uint16_t code, std::string message);
  Status OnFrame(Frame& frame, std::vector<Message>* out);

  FrameDecoder frames_;
  size_t max_message_;
  bool in_message_ = false;
  Message::Kind partial_kind_ = Message::Kind::kBinary;
  std::string partial_;
  bool failed_ = false;
  uint16_t error_code_ = 0;
  std::string error_message_;
};

}  // namespace kproxy::test::ws
