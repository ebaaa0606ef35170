#include "core/spdy/spdy_frame.h"

namespace kproxy::spdy {
namespace {

uint32_t GetU32(std::string_view in, size_t pos) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(in[pos])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(in[pos + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(in[pos + 2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(in[pos + 3]));
}

void PutU32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

// Control header: 1|version(15)|type(16), flags(8)|length(24).
void PutControlHeader(std::string& out, ControlType type, uint8_t flags, uint32_t length) {
  const auto t = static_cast<uint16_t>(type);
  out.push_back(static_cast<char>(0x80 | (kVersion >> 8)));
  out.push_back(static_cast<char>(kVersion & 0xFF));
  out.push_back(static_cast<char>(t >> 8));
  out.push_back(static_cast<char>(t & 0xFF));
  PutU32(out, (static_cast<uint32_t>(flags) << 24) | length);
}

bool IsKnownControlType(uint16_t t) {
  switch (static_cast<ControlType>(t)) {
    case ControlType::kSynStream:
    case ControlType::kSynReply:
    case ControlType::kRstStream:
    case ControlType::kSettings:
    case ControlType::kPing:
    case ControlType::kGoAway:
    case ControlType::kHeaders:
    case ControlType::kWindowUpdate:
      return true;
  }
  return false;
}

}  // namespace

const char* FrameTypeName(FrameType type) {
  switch (type) {
    case FrameType::kData:
      return "DATA";
    case FrameType::kSynStream:
      return "SYN_STREAM";
    case FrameType::kSynReply:
      return "SYN_REPLY";
    case FrameType::kRstStream:
      return "RST_STREAM";
    case FrameType::kSettings:
      return "SETTINGS";
    case FrameType::kPing:
      return "PING";
    case FrameType::kGoAway:
      return "GOAWAY";
    case FrameType::kHeaders:
      return "HEADERS";
    case FrameType::kWindowUpdate:
      return "WINDOW_UPDATE";
  }
  return "?";
}

FrameDecoder::FrameDecoder(DecoderLimits limits) : limits_(limits), inflater_(limits.headers) {}

Status FrameDecoder::Fail(std::string message) {
  state_ = State::kFailed;
  header_.clear();
  payload_.clear();
  error_ = MakeError(ErrorCode::kProtocol, "spdy: " + std::move(message));
  return error_;
}

Status FrameDecoder::Feed(std::string_view bytes, const FrameFn& on_frame) {
  return FeedImpl(bytes, on_frame, nullptr);
}

Status FrameDecoder::Feed(std::string_view bytes, const FrameFn& on_frame, const DataFn& on_data) {
  return FeedImpl(bytes, on_frame, &on_data);
}

Status FrameDecoder::FeedImpl(std::string_view bytes, const FrameFn& on_frame,
                              const DataFn* on_data) {
  while (state_ != State::kFailed) {
    if (state_ == State::kPayload && !control_ && on_data != nullptr) {
      // Streamed DATA: hand out what this input holds of the payload, as a view.
      size_t n = std::min<size_t>(length_ - data_got_, bytes.size());
      if (n == 0 && data_got_ < length_) return Status::Ok();
      DataPiece piece;
      piece.stream_id = data_stream_id_;
      piece.flags = flags_;
      piece.bytes = bytes.substr(0, n);
      piece.first = data_got_ == 0;
      data_got_ += static_cast<uint32_t>(n);
      piece.last = data_got_ == length_;
      bytes.remove_prefix(n);
      if (piece.last) state_ = State::kHeader;
      (*on_data)(piece);
      continue;
    }
    if (state_ == State::kSkip) {
      size_t n = std::min<size_t>(skip_left_, bytes.size());
      skip_left_ -= static_cast<uint32_t>(n);
      bytes.remove_prefix(n);
      if (skip_left_ > 0) return Status::Ok();
      state_ = State::kHeader;
      continue;
    }
    std::string& into = state_ == State::kHeader ? header_ : payload_;
    size_t want = state_ == State::kHeader ? kFrameHeaderSize : length_;
    size_t n = std::min(want - into.size(), bytes.size());
    into.append(bytes.data(), n);
    bytes.remove_prefix(n);
    if (into.size() < want) return Status::Ok();
    Status st = state_ == State::kHeader ? StartFrame(on_data != nullptr) : FinishFrame(on_frame);
    if (!st.ok()) return st;
  }
  return error_;
}

Status FrameDecoder::StartFrame(bool streaming) {
  auto b = [&](size_t i) { return static_cast<uint8_t>(header_[i]); };
  control_ = (b(0) & 0x80) != 0;
  flags_ = b(4);
  length_ = (static_cast<uint32_t>(b(5)) << 16) | (static_cast<uint32_t>(b(6)) << 8) | b(7);
  if (control_) {
    uint16_t version = static_cast<uint16_t>(((b(0) & 0x7F) << 8) | b(1));
    if (version != kVersion) return Fail("unsupported version " + std::to_string(version));
    control_type_ = static_cast<uint16_t>((b(2) << 8) | b(3));
    if (!IsKnownControlType(control_type_)) {
      // §2.2.1: unknown control frames are ignored; skip without buffering the payload.
      ++skipped_frames_;
      header_.clear();
      skip_left_ = length_;
      state_ = State::kSkip;
      return Status::Ok();
    }
  } else {
    data_stream_id_ = GetU32(header_, 0) & kStreamIdMask;
    if (data_stream_id_ == 0) return Fail("DATA frame on stream 0");
  }
  if (length_ > limits_.max_frame_payload)
    return Fail("frame payload of " + std::to_string(length_) + " bytes exceeds limit " +
                std::to_string(limits_.max_frame_payload));
  header_.clear();
  payload_.clear();
  state_ = State::kPayload;
  if (!control_ && streaming) {
    data_got_ = 0;  // nothing is buffered: FeedImpl streams the payload
    return Status::Ok();
  }
  // Reserve what one read is likely to bring, never the whole claimed length up front.
  payload_.reserve(std::min<size_t>(length_, 64 * 1024));
  return Status::Ok();
}

Status FrameDecoder::FinishFrame(const FrameFn& on_frame) {
  std::string_view p(payload_);
  Frame f;
  f.flags = flags_;
  if (!control_) {
    f.type = FrameType::kData;
    f.stream_id = data_stream_id_;
    f.data = std::move(payload_);  // no copy: DATA is the hot path
    payload_ = std::string();
  } else {
    auto type = static_cast<ControlType>(control_type_);
    auto need = [&](uint32_t min, bool exact, const char* name) -> Status {
      if (exact ? p.size() != min : p.size() < min)
        return Fail(std::string(name) + " with bad length " + std::to_string(p.size()));
      return Status::Ok();
    };
    Status st;
    switch (type) {
      case ControlType::kSynStream:
        if (!(st = need(kSynStreamFixed, false, "SYN_STREAM")).ok()) return st;
        f.type = FrameType::kSynStream;
        f.stream_id = GetU32(p, 0) & kStreamIdMask;
        f.assoc_id = GetU32(p, 4) & kStreamIdMask;
        f.priority = static_cast<uint8_t>(static_cast<uint8_t>(p[8]) >> 5);
        f.slot = static_cast<uint8_t>(p[9]);
        p.remove_prefix(kSynStreamFixed);
        break;
      case ControlType::kSynReply:
      case ControlType::kHeaders:
        if (!(st = need(kSynReplyFixed, false,
                        type == ControlType::kHeaders ? "HEADERS" : "SYN_REPLY"))
                 .ok())
          return st;
        f.type = type == ControlType::kHeaders ? FrameType::kHeaders : FrameType::kSynReply;
        f.stream_id = GetU32(p, 0) & kStreamIdMask;
        p.remove_prefix(kSynReplyFixed);
        break;
      case ControlType::kRstStream:
        if (!(st = need(kRstStreamPayload, true, "RST_STREAM")).ok()) return st;
        f.type = FrameType::kRstStream;
        f.stream_id = GetU32(p, 0) & kStreamIdMask;
        f.status = GetU32(p, 4);
        break;
      case ControlType::kSettings: {
        if (!(st = need(4, false, "SETTINGS")).ok()) return st;
        uint32_t count = GetU32(p, 0);
        if ((p.size() - 4) / 8 != count || (p.size() - 4) % 8 != 0)
          return Fail("SETTINGS count " + std::to_string(count) + " does not match length");
        f.type = FrameType::kSettings;
        for (uint32_t i = 0; i < count; ++i) {
          uint32_t head = GetU32(p, 4 + 8 * i);
          f.settings.push_back(
              {static_cast<uint8_t>(head >> 24), head & 0xFFFFFF, GetU32(p, 8 + 8 * i)});
        }
        break;
      }
      case ControlType::kPing:
        if (!(st = need(kPingPayload, true, "PING")).ok()) return st;
        f.type = FrameType::kPing;
        f.ping_id = GetU32(p, 0);
        break;
      case ControlType::kGoAway:
        if (!(st = need(kGoAwayPayload, true, "GOAWAY")).ok()) return st;
        f.type = FrameType::kGoAway;
        f.last_good_stream_id = GetU32(p, 0) & kStreamIdMask;
        f.status = GetU32(p, 4);
        break;
      case ControlType::kWindowUpdate:
        if (!(st = need(kWindowUpdatePayload, true, "WINDOW_UPDATE")).ok()) return st;
        f.type = FrameType::kWindowUpdate;
        f.stream_id = GetU32(p, 0) & kStreamIdMask;
        f.delta = GetU32(p, 4) & kStreamIdMask;
        break;
    }
    if (f.type == FrameType::kSynStream || f.type == FrameType::kSynReply ||
        f.type == FrameType::kHeaders) {
      if (f.stream_id == 0) return Fail(std::string(FrameTypeName(f.type)) + " on stream 0");
      // Every header block goes through the one inflate context, in order, even for
      // streams the session will refuse: skipping one would desynchronise zlib.
      auto headers = inflater_.DecompressHeaders(p);
      if (!headers.ok()) return Fail(headers.error().message);
      f.headers = std::move(*headers);
    }
  }
  payload_.clear();
  state_ = State::kHeader;
  on_frame(std::move(f));
  return Status::Ok();
}

Result<std::string> FrameEncoder::Encode(const Frame& f) {
  if (f.stream_id > kStreamIdMask || f.assoc_id > kStreamIdMask ||
      f.last_good_stream_id > kStreamIdMask)
    return MakeError(ErrorCode::kProtocol, "spdy: stream id over 31 bits");
  std::string payload;
  ControlType type{};
  switch (f.type) {
    case FrameType::kData: {
      if (f.data.size() > kMaxWireLength)
        return MakeError(ErrorCode::kProtocol, "spdy: DATA payload too large");
      return Data(f.stream_id, f.data, f.flags);
    }
    case FrameType::kSynStream:
    case FrameType::kSynReply:
    case FrameType::kHeaders: {
      auto block = deflater_.CompressHeaders(f.headers);
      if (!block.ok()) return block.error();
      PutU32(payload, f.stream_id);
      if (f.type == FrameType::kSynStream) {
        PutU32(payload, f.assoc_id);
        payload.push_back(static_cast<char>((f.priority & 0x7) << 5));
        payload.push_back(static_cast<char>(f.slot));
        type = ControlType::kSynStream;
      } else {
        type = f.type == FrameType::kSynReply ? ControlType::kSynReply : ControlType::kHeaders;
      }
      payload += *block;
      break;
    }
    case FrameType::kRstStream:
      return RstStream(f.stream_id, static_cast<RstStatus>(f.status));
    case FrameType::kSettings:
      type = ControlType::kSettings;
      PutU32(payload, static_cast<uint32_t>(f.settings.size()));
      for (const auto& s : f.settings) {
        PutU32(payload, (static_cast<uint32_t>(s.flags) << 24) | (s.id & 0xFFFFFF));
        PutU32(payload, s.value);
      }
      break;
    case FrameType::kPing:
      return Ping(f.ping_id);
    case FrameType::kGoAway:
      return GoAway(f.last_good_stream_id, static_cast<GoAwayStatus>(f.status));
    case FrameType::kWindowUpdate:
      return WindowUpdate(f.stream_id, f.delta);
  }
  if (payload.size() > kMaxWireLength)
    return MakeError(ErrorCode::kProtocol, "spdy: control payload too large");
  std::string out;
  PutControlHeader(out, type, f.flags, static_cast<uint32_t>(payload.size()));
  out += payload;
  return out;
}

Result<std::string> FrameEncoder::SynStream(uint32_t stream_id, const StreamHeaders& headers,
                                            uint8_t flags) {
  Frame f;
  f.type = FrameType::kSynStream;
  f.stream_id = stream_id;
  f.flags = flags;
  f.headers = headers;
  return Encode(f);
}

Result<std::string> FrameEncoder::SynReply(uint32_t stream_id, const StreamHeaders& headers,
                                           uint8_t flags) {
  Frame f;
  f.type = FrameType::kSynReply;
  f.stream_id = stream_id;
  f.flags = flags;
  f.headers = headers;
  return Encode(f);
}

std::string FrameEncoder::Data(uint32_t stream_id, std::string_view data, uint8_t flags) {
  std::string out;
  out.reserve(kFrameHeaderSize + data.size());
  AppendData(out, stream_id, data, flags);
  return out;
}

void FrameEncoder::AppendData(std::string& out, uint32_t stream_id, std::string_view data,
                              uint8_t flags) {
  char header[kFrameHeaderSize];
  uint32_t id = stream_id & kStreamIdMask;
  uint32_t fl = (static_cast<uint32_t>(flags) << 24) | static_cast<uint32_t>(data.size());
  for (int i = 0; i < 4; ++i) {
    header[i] = static_cast<char>(id >> (24 - 8 * i));
    header[4 + i] = static_cast<char>(fl >> (24 - 8 * i));
  }
  out.append(header, sizeof header);
  out.append(data);
}

std::string FrameEncoder::RstStream(uint32_t stream_id, RstStatus status) {
  std::string out;
  PutControlHeader(out, ControlType::kRstStream, 0, kRstStreamPayload);
  PutU32(out, stream_id & kStreamIdMask);
  PutU32(out, static_cast<uint32_t>(status));
  return out;
}

std::string FrameEncoder::Ping(uint32_t id) {
  std::string out;
  PutControlHeader(out, ControlType::kPing, 0, kPingPayload);
  PutU32(out, id);
  return out;
}

std::string FrameEncoder::GoAway(uint32_t last_good_stream_id, GoAwayStatus status) {
  std::string out;
  PutControlHeader(out, ControlType::kGoAway, 0, kGoAwayPayload);
  PutU32(out, last_good_stream_id & kStreamIdMask);
  PutU32(out, static_cast<uint32_t>(status));
  return out;
}

std::string FrameEncoder::WindowUpdate(uint32_t stream_id, uint32_t delta) {
  std::string out;
  PutControlHeader(out, ControlType::kWindowUpdate, 0, kWindowUpdatePayload);
  PutU32(out, stream_id & kStreamIdMask);
  PutU32(out, delta & kStreamIdMask);
  return out;
}

}  // namespace kproxy::spdy
