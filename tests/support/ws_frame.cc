#include "tests/support/ws_frame.h"

#include <algorithm>
#include <utility>

namespace kproxy::test::ws {
namespace {

bool IsControl(uint8_t opcode) { return (opcode & 0x8) != 0; }

bool IsKnownOpcode(uint8_t op) {
  return op == 0x0 || op == 0x1 || op == 0x2 || op == 0x8 || op == 0x9 || op == 0xA;
}

// RFC 6455 §7.4: codes a peer may put on the wire. 1004-1006 and 1015 are reserved and must
// never be sent; 1012-1014 are registered with IANA and used by real servers.
bool IsValidWireCloseCode(uint16_t code) {
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t c = static_cast<uint8_t>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      const uint8_t cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are invalid (RFC 3629).
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

std::string EncodeFrame(Opcode opcode, std::string_view payload, bool fin,
                        std::optional<MaskKey> mask, uint8_t rsv) {
  std::string out;
  out.reserve(payload.size() + 14);
  out.push_back(
      static_cast<char>((fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | static_cast<uint8_t>(opcode)));
  const uint8_t mask_bit = mask ? 0x80 : 0;
  const uint64_t n = payload.size();
  if (n <= 125) {
    out.push_back(static_cast<char>(mask_bit | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  }
  if (mask) {
    for (uint8_t b : *mask) out.push_back(static_cast<char>(b));
    for (size_t i = 0; i < payload.size(); ++i)
      out.push_back(static_cast<char>(static_cast<uint8_t>(payload[i]) ^ (*mask)[i % 4]));
  } else {
    out.append(payload);
  }
  return out;
}

std::string EncodeClose(uint16_t code, std::string_view reason, std::optional<MaskKey> mask) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason.substr(0, kMaxControlPayload - 2));
  return EncodeFrame(Opcode::kClose, payload, true, mask);
}

FrameDecoder::FrameDecoder(Role reader, size_t max_payload)
    : reader_(reader), max_payload_(max_payload) {}

Status FrameDecoder::Fail(uint16_t code, std::string message) {
  failed_ = true;
  error_code_ = code;
  error_message_ = std::move(message);
  return MakeError(ErrorCode::kProtocol, "websocket: " + error_message_);
}

Status FrameDecoder::ParseHeader() {
  const uint8_t b0 = header_[0];
  const uint8_t b1 = header_[1];
  const uint8_t op = b0 & 0x0F;
  frame_ = Frame{};
  frame_.fin = (b0 & 0x80) != 0;
  frame_.rsv = (b0 >> 4) & 0x7;
  frame_.opcode = static_cast<Opcode>(op);
  frame_.masked = (b1 & 0x80) != 0;
  // No extension is ever negotiated (kproxy offers no permessage-deflate), so RSV must be 0.
  if (frame_.rsv != 0) return Fail(close_code::kProtocolError, "RSV bits set without extension");
  if (!IsKnownOpcode(op)) return Fail(close_code::kProtocolError, "unknown opcode");
  // §5.1: a server MUST close on an unmasked client frame; a client on a masked server frame.
  if (reader_ == Role::kServer && !frame_.masked)
    return Fail(close_code::kProtocolError, "unmasked client frame");
  if (reader_ == Role::kClient && frame_.masked)
    return Fail(close_code::kProtocolError, "masked server frame");

  const uint8_t len7 = b1 & 0x7F;
  size_t pos = 2;
  uint64_t len = len7;
  if (len7 == 126) {
    len = (uint64_t{header_[2]} << 8) | header_[3];
    pos = 4;
    // §5.2: "the minimal number of bytes MUST be used to encode the length".
    if (len < 126) return Fail(close_code::kProtocolError, "non-minimal 16-bit length");
  } else if (len7 == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | header_[2 + i];
    pos = 10;
    if (len >> 63) return Fail(close_code::kProtocolError, "64-bit length with MSB set");
    if (len <= 0xFFFF) return Fail(close_code::kProtocolError, "non-minimal 64-bit length");
  }
  if (IsControl(op)) {
    if (!frame_.fin) return Fail(close_code::kProtocolError, "fragmented control frame");
    if (len > kMaxControlPayload) return Fail(close_code::kProtocolError, "control frame > 125");
  }
  if (len > max_payload_) return Fail(close_code::kMessageTooBig, "frame payload too large");
  if (frame_.masked) std::copy(header_ + pos, header_ + pos + 4, mask_.begin());
  payload_len_ = len;
  // Grow with the bytes that actually arrive: a header alone must not pin max_payload bytes.
  frame_.payload.reserve(static_cast<size_t>(std::min<uint64_t>(len, 64 * 1024)));
  state_ = State::kPayload;
  return Status::Ok();
}

Status FrameDecoder::Feed(std::string_view bytes, std::vector<Frame>* out) {
  if (failed_) return MakeError(ErrorCode::kProtocol, "websocket: " + error_message_);
  size_t i = 0;
  while (true) {
    if (state_ == State::kHeader) {
      while (header_len_ < header_need_ && i < bytes.size())
        header_[header_len_++] = static_cast<uint8_t>(bytes[i++]);
      if (header_len_ < header_need_) return Status::Ok();
      if (header_need_ == 2) {
        // The first two bytes tell how long the rest of the header is.
        const uint8_t len7 = header_[1] & 0x7F;
        header_need_ = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((header_[1] & 0x80) ? 4 : 0);
        if (header_len_ < header_need_) continue;
      }
      if (Status s = ParseHeader(); !s.ok()) return s;
    }
    // State::kPayload
    const size_t have = frame_.payload.size();
    const size_t take =
        std::min<uint64_t>(payload_len_ - have, static_cast<uint64_t>(bytes.size() - i));
    if (frame_.masked) {
      for (size_t k = 0; k < take; ++k)
        frame_.payload.push_back(
            static_cast<char>(static_cast<uint8_t>(bytes[i + k]) ^ mask_[(have + k) % 4]));
    } else {
      frame_.payload.append(bytes.substr(i, take));
    }
    i += take;
    if (frame_.payload.size() < payload_len_) return Status::Ok();
    out->push_back(std::move(frame_));
    frame_ = Frame{};
    state_ = State::kHeader;
    header_len_ = 0;
    header_need_ = 2;
    if (i == bytes.size()) return Status::Ok();
  }
}

MessageDecoder::MessageDecoder(Role reader, size_t max_message)
    : frames_(reader, max_message), max_message_(max_message) {}

Status MessageDecoder::Fail(uint16_t code, std::string message) {
  failed_ = true;
  error_code_ = code;
  error_message_ = std::move(message);
  return MakeError(ErrorCode::kProtocol, "websocket: " + error_message_);
}

Status MessageDecoder::OnFrame(Frame& frame, std::vector<Message>* out) {
  switch (frame.opcode) {
    case Opcode::kClose: {
      Message m;
      m.kind = Message::Kind::kClose;
      if (frame.payload.size() == 1) return Fail(close_code::kProtocolError, "1-byte close");
      if (frame.payload.size() >= 2) {
        const uint16_t code = static_cast<uint16_t>((static_cast<uint8_t>(frame.payload[0]) << 8) |
                                                    static_cast<uint8_t>(frame.payload[1]));
        if (!IsValidWireCloseCode(code))
          return Fail(close_code::kProtocolError, "invalid close code " + std::to_string(code));
        m.close_code = code;
        m.payload = frame.payload.substr(2);
        if (!IsValidUtf8(m.payload))
          return Fail(close_code::kInvalidData, "close reason is not UTF-8");
      }
      out->push_back(std::move(m));
      return Status::Ok();
    }
    case Opcode::kPing:
    case Opcode::kPong:
      out->push_back(
          Message{frame.opcode == Opcode::kPing ? Message::Kind::kPing : Message::Kind::kPong,
                  std::move(frame.payload), std::nullopt});
      return Status::Ok();
    case Opcode::kText:
    case Opcode::kBinary:
      if (in_message_) return Fail(close_code::kProtocolError, "new data frame inside a message");
      in_message_ = true;
      partial_kind_ = frame.opcode == Opcode::kText ? Message::Kind::kText : Message::Kind::kBinary;
      partial_ = std::move(frame.payload);
      break;
    case Opcode::kContinuation:
      if (!in_message_) return Fail(close_code::kProtocolError, "continuation without start");
      if (partial_.size() + frame.payload.size() > max_message_)
        return Fail(close_code::kMessageTooBig, "message too large");
      partial_ += frame.payload;
      break;
  }
  if (frame.fin) {
    // §8.1: text messages must be valid UTF-8 once assembled (fragments may split a sequence).
    if (partial_kind_ == Message::Kind::kText && !IsValidUtf8(partial_))
      return Fail(close_code::kInvalidData, "text message is not UTF-8");
    out->push_back(Message{partial_kind_, std::move(partial_), std::nullopt});
    partial_.clear();
    in_message_ = false;
  }
  return Status::Ok();
}

Status MessageDecoder::Feed(std::string_view bytes, std::vector<Message>* out) {
  if (failed_) return MakeError(ErrorCode::kProtocol, "websocket: " + error_message_);
  std::vector<Frame> frames;
  Status fs = frames_.Feed(bytes, &frames);
  for (Frame& f : frames)
    if (Status s = OnFrame(f, out); !s.ok()) return s;
  if (!fs.ok()) return Fail(frames_.error_close_code(), fs.error().message);
  return Status::Ok();
}

}  // namespace kproxy::test::ws
