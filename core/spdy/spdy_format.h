// SPDY/3.1 wire constants. Source: SPDY Protocol draft 3.1 (the Chromium "SPDY/3.1" spec,
// sections 2.2 framing, 2.6 control frames, 2.6.10 header compression) as implemented by
// moby/spdystream (spdy/types.go), the only peer kproxy talks SPDY to.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kproxy::spdy {

inline constexpr uint16_t kVersion = 3;
inline constexpr size_t kFrameHeaderSize = 8;          // §2.2: control and data headers
inline constexpr uint32_t kMaxWireLength = 0xFFFFFF;   // 24-bit length field
inline constexpr uint32_t kStreamIdMask = 0x7FFFFFFF;  // 31-bit stream ids

// §2.6 control frame types. 5 (NOOP, SPDY/2) and 10 (CREDENTIAL) are never sent: an unknown
// control type kills a spdystream session.
enum class ControlType : uint16_t {
  kSynStream = 1,
  kSynReply = 2,
  kRstStream = 3,
  kSettings = 4,
  kPing = 6,
  kGoAway = 7,
  kHeaders = 8,
  kWindowUpdate = 9,
};

// Flags (§2.6.1, §2.2.2). FIN is shared by DATA, SYN_STREAM, SYN_REPLY and HEADERS.
inline constexpr uint8_t kFlagFin = 0x01;
inline constexpr uint8_t kFlagUnidirectional = 0x02;  // SYN_STREAM only
inline constexpr uint8_t kFlagSettingsClear = 0x01;   // SETTINGS frame flag

// §2.4.2 RST_STREAM status codes.
enum class RstStatus : uint32_t {
  kProtocolError = 1,
  kInvalidStream = 2,
  kRefusedStream = 3,
  kUnsupportedVersion = 4,
  kCancel = 5,
  kInternalError = 6,
  kFlowControlError = 7,
  kStreamInUse = 8,
  kStreamAlreadyClosed = 9,
  kInvalidCredentials = 10,
  kFrameTooLarge = 11,
};

// §2.6.6 GOAWAY status codes.
enum class GoAwayStatus : uint32_t {
  kOk = 0,
  kProtocolError = 1,
  kInternalError = 2,
};

// §2.6.4 SETTINGS ids (only decoded; kproxy never sends SETTINGS unless asked).
inline constexpr uint32_t kSettingsInitialWindowSize = 7;

// Fixed payload sizes of the fixed-size control frames.
inline constexpr uint32_t kRstStreamPayload = 8;
inline constexpr uint32_t kPingPayload = 4;
inline constexpr uint32_t kGoAwayPayload = 8;
inline constexpr uint32_t kWindowUpdatePayload = 8;
inline constexpr uint32_t kSynStreamFixed = 10;  // stream id, assoc id, priority, slot
inline constexpr uint32_t kSynReplyFixed = 4;    // stream id (SPDY/3 dropped the unused 16 bits)
inline constexpr uint32_t kHeadersFixed = 4;

// Default limits (kproxy's own choices, not the spec's): large enough for every real
// kubelet/API-server frame (io.Copy writes 32 KiB), small enough to bound memory per frame.
inline constexpr uint32_t kDefaultMaxFramePayload = 1u << 20;
inline constexpr size_t kDefaultMaxHeaderBlock = 256u * 1024;  // decompressed NV block
inline constexpr uint32_t kDefaultMaxHeaderPairs = 1024;
// What the session puts in one DATA frame when a Write is larger.
inline constexpr size_t kMaxDataFrameSend = 64u * 1024;

// §2.6.10.1: the SPDY/3 zlib dictionary, 1423 bytes, Adler-32 0xE3C6A7C2. Identical to
// headerDictionaryV3 in moby/spdystream spdy/types.go.
inline constexpr size_t kDictionarySize = 1423;
inline constexpr uint32_t kDictionaryAdler32 = 0xE3C6A7C2;
extern const unsigned char kDictionary[kDictionarySize];

}  // namespace kproxy::spdy
