// The Kubernetes channel layer over WebSocket *messages* (framing is done below, by
// libwebsockets in production). Pure functions: no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"

namespace kproxy::ws {

enum class ChannelProtocol { kV5, kV4, kV1, kBase64, kV4Base64 };

// "v5.channel.k8s.io" etc. → protocol; kUpgradeRejected for anything else (including "").
Result<ChannelProtocol> ParseChannelProtocol(std::string_view name);
const char* ChannelProtocolName(ChannelProtocol p);
// Base64 variants send text frames: '0'+channel, then standard base64 of the payload.
bool IsBase64Protocol(ChannelProtocol p);
// Only v5 has the close signal (stdin half-close).
bool SupportsCloseSignal(ChannelProtocol p);

// Which end of the connection is using the codec.
enum class ChannelRole { kClient, kServer };

// One WebSocket message to send (one unfragmented frame).
struct OutMessage {
  bool is_text = false;
  std::string data;
};

// Encodes `payload` for `channel` as one or more messages, each ≤ kMaxMessageBytes including the
// channel byte (and base64 expansion). Empty payload → no messages (never a zero-length message).
std::vector<OutMessage> EncodeData(ChannelProtocol p, uint8_t channel, std::string_view payload);

// A message holding only the channel byte: the server's initial marker.
OutMessage EncodeMarker(ChannelProtocol p, uint8_t channel);

// The v5 close signal FF <channel>. kProtocol error on protocols without it.
Result<OutMessage> EncodeCloseSignal(ChannelProtocol p, uint8_t channel);

// {"Width":W,"Height":H}\n — the resize payload (without channel byte); client-go writes it
// with json.Encoder, hence the trailing newline (kept: the transcripts show it).
std::string ResizePayload(uint16_t width, uint16_t height);

struct ChannelMessage {
  enum class Kind {
    kData,         // payload for `channel` (may be empty: a marker or a no-op)
    kCloseSignal,  // v5: the peer half-closed `channel`
    kEmpty,        // zero-length message: nothing to deliver
  };
  Kind kind = Kind::kData;
  uint8_t channel = 0;
  std::string payload;
};

// Decodes one received message. Errors (kProtocol): binary message under a base64 protocol, bad
// base64, bad channel character, close signal on a protocol without one or of the wrong length.
Result<ChannelMessage> DecodeMessage(ChannelProtocol p, ChannelRole role, std::string_view message,
                                     bool is_text);

// DecodeMessage without the payload copy (the bulk data path): `payload` views `message` for
// binary protocols, or `*scratch` (overwritten) for base64 ones; valid while both are unchanged.
struct ChannelMessageView {
  ChannelMessage::Kind kind = ChannelMessage::Kind::kData;
  uint8_t channel = 0;
  std::string_view payload;
};
Result<ChannelMessageView> DecodeMessageView(ChannelProtocol p, ChannelRole role,
                                             std::string_view message, bool is_text,
                                             std::string* scratch);

}  // namespace kproxy::ws
