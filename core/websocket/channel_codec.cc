#include "core/websocket/channel_codec.h"

#include <openssl/evp.h>

#include <algorithm>

#include "core/websocket/channel_format.h"

namespace kproxy::ws {
namespace {

// Raw bytes per base64 message: 1 + 4*ceil(n/3) ≤ 32 KiB ⇒ n ≤ 24573 (a multiple of 3, so
// only the last message of a payload carries padding).
constexpr size_t kMaxBase64Chunk = (kMaxMessageBytes - 1) / 4 * 3;
constexpr size_t kMaxBinaryChunk = kMaxMessageBytes - 1;

std::string Base64Encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// Strict standard base64 (Go's base64.StdEncoding): padded, no whitespace. EVP_DecodeBlock alone
// skips whitespace and counts padding as zero bytes, hence the checks around it.
Result<std::string> Base64Decode(std::string_view in) {
  if (in.size() % 4 != 0)
    return MakeError(ErrorCode::kProtocol, "base64 length not a multiple of 4");
  size_t pad = 0;
  if (!in.empty() && in.back() == '=') pad = (in.size() >= 2 && in[in.size() - 2] == '=') ? 2 : 1;
  for (size_t i = 0; i < in.size() - pad; ++i)
    if (!IsBase64Char(in[i])) return MakeError(ErrorCode::kProtocol, "invalid base64 character");
  std::string out(in.size() / 4 * 3, '\0');
  if (in.empty()) return out;
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0 || static_cast<size_t>(n) < pad) return MakeError(ErrorCode::kProtocol, "bad base64");
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

OutMessage MakeMessage(ChannelProtocol p, uint8_t channel, std::string_view chunk) {
  OutMessage m;
  if (IsBase64Protocol(p)) {
    m.is_text = true;
    m.data.push_back(static_cast<char>('0' + channel));
    m.data += Base64Encode(chunk);
  } else {
    m.data.reserve(chunk.size() + 1);
    m.data.push_back(static_cast<char>(channel));
    m.data.append(chunk);
  }
  return m;
}

}  // namespace

Result<ChannelProtocol> ParseChannelProtocol(std::string_view name) {
  if (name == kProtocolV5) return ChannelProtocol::kV5;
  if (name == kProtocolV4) return ChannelProtocol::kV4;
  if (name == kProtocolV1) return ChannelProtocol::kV1;
  if (name == kProtocolBase64) return ChannelProtocol::kBase64;
  if (name == kProtocolV4Base64) return ChannelProtocol::kV4Base64;
  return MakeError(ErrorCode::kUpgradeRejected,
                   "unknown channel subprotocol \"" + std::string(name) + "\"");
}

const char* ChannelProtocolName(ChannelProtocol p) {
  switch (p) {
    case ChannelProtocol::kV5:
      return kProtocolV5;
    case ChannelProtocol::kV4:
      return kProtocolV4;
    case ChannelProtocol::kV1:
      return kProtocolV1;
    case ChannelProtocol::kBase64:
      return kProtocolBase64;
    case ChannelProtocol::kV4Base64:
      return kProtocolV4Base64;
  }
  return "";
}

bool IsBase64Protocol(ChannelProtocol p) {
  return p == ChannelProtocol::kBase64 || p == ChannelProtocol::kV4Base64;
}

bool SupportsCloseSignal(ChannelProtocol p) { return p == ChannelProtocol::kV5; }

std::vector<OutMessage> EncodeData(ChannelProtocol p, uint8_t channel, std::string_view payload) {
  std::vector<OutMessage> out;
  const size_t chunk = IsBase64Protocol(p) ? kMaxBase64Chunk : kMaxBinaryChunk;
  for (size_t off = 0; off < payload.size(); off += chunk)
    out.push_back(MakeMessage(p, channel, payload.substr(off, chunk)));
  return out;
}

OutMessage EncodeMarker(ChannelProtocol p, uint8_t channel) { return MakeMessage(p, channel, {}); }

Result<OutMessage> EncodeCloseSignal(ChannelProtocol p, uint8_t channel) {
  if (!SupportsCloseSignal(p))
    return MakeError(ErrorCode::kProtocol,
                     std::string("no close signal in ") + ChannelProtocolName(p));
  OutMessage m;
  m.data = {static_cast<char>(kChannelClose), static_cast<char>(channel)};
  return m;
}

std::string ResizePayload(uint16_t width, uint16_t height) {
  return "{\"Width\":" + std::to_string(width) + ",\"Height\":" + std::to_string(height) + "}\n";
}

Result<ChannelMessageView> DecodeMessageView(ChannelProtocol p, ChannelRole role,
                                             std::string_view message, bool is_text,
                                             std::string* scratch) {
  ChannelMessageView m;
  if (message.empty()) {
    m.kind = ChannelMessage::Kind::kEmpty;
    return m;
  }
  if (IsBase64Protocol(p)) {
    if (!is_text) return MakeError(ErrorCode::kProtocol, "binary message under a base64 protocol");
    const char c = message[0];
    if (c < '0' || c > '9')
      return MakeError(ErrorCode::kProtocol, "invalid base64 channel character");
    m.channel = static_cast<uint8_t>(c - '0');
    Result<std::string> data = Base64Decode(message.substr(1));
    if (!data.ok()) return data.error();
    *scratch = std::move(*data);
    m.payload = *scratch;
    return m;
  }
  // Binary protocols: the kubelet/apiserver accept text frames too, so is_text is not checked.
  m.channel = static_cast<uint8_t>(message[0]);
  if (m.channel == kChannelClose && SupportsCloseSignal(p)) {
    // The apiserver drops the connection on any other length; a client never receives one.
    if (message.size() != 2)
      return MakeError(ErrorCode::kProtocol, "close signal must carry exactly one channel byte");
    if (role == ChannelRole::kClient)
      return MakeError(ErrorCode::kProtocol, "close signal sent by the server");
    m.kind = ChannelMessage::Kind::kCloseSignal;
    m.channel = static_cast<uint8_t>(message[1]);
    return m;
  }
  m.payload = message.substr(1);
  return m;
}

Result<ChannelMessage> DecodeMessage(ChannelProtocol p, ChannelRole role, std::string_view message,
                                     bool is_text) {
  std::string scratch;
  Result<ChannelMessageView> v = DecodeMessageView(p, role, message, is_text, &scratch);
  if (!v.ok()) return v.error();
  ChannelMessage m;
  m.kind = v->kind;
  m.channel = v->channel;
  m.payload.assign(v->payload);
  return m;
}

}  // namespace kproxy::ws
