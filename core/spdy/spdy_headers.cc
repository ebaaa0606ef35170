#include "core/spdy/spdy_headers.h"

#include <zlib.h>

#include <algorithm>
#include <unordered_set>

namespace kproxy::spdy {
namespace {

void PutU32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

uint32_t GetU32(std::string_view in, size_t pos) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(in[pos])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(in[pos + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(in[pos + 2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(in[pos + 3]));
}

Error HeaderError(std::string what) {
  return MakeError(ErrorCode::kProtocol, "spdy header block: " + std::move(what));
}

}  // namespace

std::string EncodeNvBlock(const StreamHeaders& headers) {
  // Repeated names are one pair on the wire (§2.6.10: duplicate names are a protocol error).
  std::vector<std::pair<std::string, std::string>> joined;
  for (const auto& [name, value] : headers.pairs) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto it =
        std::find_if(joined.begin(), joined.end(), [&](const auto& p) { return p.first == lower; });
    if (it == joined.end()) {
      joined.emplace_back(std::move(lower), value);
    } else {
      it->second.push_back('\0');
      it->second += value;
    }
  }
  std::string out;
  PutU32(out, static_cast<uint32_t>(joined.size()));
  for (const auto& [name, value] : joined) {
    PutU32(out, static_cast<uint32_t>(name.size()));
    out += name;
    PutU32(out, static_cast<uint32_t>(value.size()));
    out += value;
  }
  return out;
}

Result<StreamHeaders> DecodeNvBlock(std::string_view block, const HeaderLimits& limits) {
  if (block.size() < 4) return HeaderError("truncated pair count");
  uint32_t count = GetU32(block, 0);
  if (count > limits.max_pairs)
    return HeaderError("too many pairs (" + std::to_string(count) + " > " +
                       std::to_string(limits.max_pairs) + ")");
  size_t pos = 4;
  StreamHeaders headers;
  std::unordered_set<std::string> seen;
  for (uint32_t i = 0; i < count; ++i) {
    if (block.size() - pos < 4) return HeaderError("truncated name length");
    uint32_t name_len = GetU32(block, pos);
    pos += 4;
    if (name_len == 0) return HeaderError("empty name");
    if (block.size() - pos < name_len) return HeaderError("truncated name");
    std::string name(block.substr(pos, name_len));
    pos += name_len;
    // spdystream rejects names that are not lower-case (UnlowercasedHeaderName).
    for (unsigned char c : name)
      if (std::isupper(c)) return HeaderError("upper-case name '" + name + "'");
    if (!seen.insert(name).second) return HeaderError("duplicate name '" + name + "'");
    if (block.size() - pos < 4) return HeaderError("truncated value length");
    uint32_t value_len = GetU32(block, pos);
    pos += 4;
    if (block.size() - pos < value_len) return HeaderError("truncated value");
    std::string_view value = block.substr(pos, value_len);
    pos += value_len;
    // NUL separates several values of one name; an empty segment is invalid (§2.6.10), but a
    // wholly empty value is a single empty value.
    size_t start = 0;
    while (true) {
      size_t nul = value.find('\0', start);
      std::string_view part =
          value.substr(start, nul == std::string_view::npos ? nul : nul - start);
      if (part.empty() && !value.empty())
        return HeaderError("empty value segment in '" + name + "'");
      headers.pairs.emplace_back(name, std::string(part));
      if (nul == std::string_view::npos) break;
      start = nul + 1;
    }
    if (headers.pairs.size() > limits.max_pairs) return HeaderError("too many values");
  }
  if (pos != block.size()) return HeaderError("trailing bytes after last pair");
  return headers;
}

struct HeaderCompressor::State {
  z_stream z{};
  bool ok = false;
};

HeaderCompressor::HeaderCompressor() : state_(std::make_unique<State>()) {
  if (deflateInit(&state_->z, Z_DEFAULT_COMPRESSION) != Z_OK) return;
  // The dictionary goes in before the first block, once per connection.
  state_->ok = deflateSetDictionary(&state_->z, kDictionary, kDictionarySize) == Z_OK;
}

HeaderCompressor::~HeaderCompressor() { deflateEnd(&state_->z); }

Result<std::string> HeaderCompressor::Compress(std::string_view block) {
  if (!state_->ok) return MakeError(ErrorCode::kInternal, "spdy deflate context failed");
  z_stream& z = state_->z;
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
  z.avail_in = static_cast<uInt>(block.size());
  unsigned char buf[4096];
  do {
    z.next_out = buf;
    z.avail_out = sizeof(buf);
    int rc = deflate(&z, Z_SYNC_FLUSH);
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      state_->ok = false;
      return MakeError(ErrorCode::kInternal, "spdy deflate failed");
    }
    out.append(reinterpret_cast<char*>(buf), sizeof(buf) - z.avail_out);
  } while (z.avail_out == 0);
  return out;
}

Result<std::string> HeaderCompressor::CompressHeaders(const StreamHeaders& headers) {
  return Compress(EncodeNvBlock(headers));
}

struct HeaderDecompressor::State {
  z_stream z{};
  bool ok = false;
  std::string error;
};

HeaderDecompressor::HeaderDecompressor(HeaderLimits limits)
    : state_(std::make_unique<State>()), limits_(limits) {
  state_->ok = inflateInit(&state_->z) == Z_OK;
  if (!state_->ok) state_->error = "inflate init failed";
}

HeaderDecompressor::~HeaderDecompressor() { inflateEnd(&state_->z); }

Result<std::string> HeaderDecompressor::Decompress(std::string_view compressed) {
  if (!state_->ok) return HeaderError(state_->error);
  auto fail = [&](std::string why) -> Error {
    state_->ok = false;
    state_->error = why;
    return HeaderError(std::move(why));
  };
  z_stream& z = state_->z;
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(compressed.size());
  unsigned char buf[4096];
  while (z.avail_in > 0) {
    z.next_out = buf;
    z.avail_out = sizeof(buf);
    int rc = inflate(&z, Z_SYNC_FLUSH);
    if (rc == Z_NEED_DICT) {
      // zlib itself checks the dictionary's Adler-32 against the stream's DICTID.
      if (inflateSetDictionary(&z, kDictionary, kDictionarySize) != Z_OK)
        return fail("peer used a different zlib dictionary");
      continue;
    }
    size_t produced = sizeof(buf) - z.avail_out;
    if (out.size() + produced > limits_.max_block)
      return fail("decompressed block larger than " + std::to_string(limits_.max_block) + " bytes");
    out.append(reinterpret_cast<char*>(buf), produced);
    if (rc == Z_STREAM_END) {
      if (z.avail_in > 0) return fail("data after the end of the zlib stream");
      break;
    }
    if (rc == Z_BUF_ERROR && produced == 0) return fail("zlib made no progress");
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      return fail(std::string("bad zlib data: ") + (z.msg ? z.msg : "error"));
  }
  // Drain output zlib may still hold although all input is consumed.
  while (true) {
    z.next_out = buf;
    z.avail_out = sizeof(buf);
    int rc = inflate(&z, Z_SYNC_FLUSH);
    size_t produced = sizeof(buf) - z.avail_out;
    if (out.size() + produced > limits_.max_block)
      return fail("decompressed block larger than " + std::to_string(limits_.max_block) + " bytes");
    out.append(reinterpret_cast<char*>(buf), produced);
    if (produced == 0 || (rc != Z_OK)) {
      if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END)
        return fail(std::string("bad zlib data: ") + (z.msg ? z.msg : "error"));
      break;
    }
  }
  return out;
}

Result<StreamHeaders> HeaderDecompressor::DecompressHeaders(std::string_view compressed) {
  if (compressed.empty()) {
    if (!state_->ok) return HeaderError(state_->error);
    return StreamHeaders{};
  }
  auto block = Decompress(compressed);
  if (!block.ok()) return block.error();
  return DecodeNvBlock(*block, limits_);
}

}  // namespace kproxy::spdy
