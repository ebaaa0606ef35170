// SPDY/3 name/value header blocks (§2.6.10) and the connection-wide zlib contexts.
//
// A header block is count(32) then per pair len(32)+name, len(32)+value; several values of
// one name travel NUL-joined in one value. Blocks are compressed with ONE deflate stream per
// direction for the whole connection (dictionary set before the first block, Z_SYNC_FLUSH
// after each) and decompressed with ONE inflate stream kept across frames: a decoder that
// restarts zlib per frame fails on the second block.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/base/result.h"
#include "core/spdy/spdy_format.h"
#include "core/stream/stream_connection.h"

namespace kproxy::spdy {

struct HeaderLimits {
  size_t max_block = kDefaultMaxHeaderBlock;  // decompressed bytes per block
  uint32_t max_pairs = kDefaultMaxHeaderPairs;
};

// Consumes header pairs (names lower-case; repeated names are joined with NUL into one
// pair, in first-occurrence order); returns the uncompressed NV block.
std::string EncodeNvBlock(const StreamHeaders& headers);

// Consumes one uncompressed NV block; returns its pairs in wire order with NUL-joined values
// split into repeated pairs. Errors (kProtocol): truncation, trailing bytes, empty or
// upper-case names, duplicate names, empty value segments, more than limits.max_pairs.
Result<StreamHeaders> DecodeNvBlock(std::string_view block, const HeaderLimits& limits = {});

// The sending side's deflate stream for a whole connection.
class HeaderCompressor {
 public:
  HeaderCompressor();
  ~HeaderCompressor();
  HeaderCompressor(const HeaderCompressor&) = delete;
  HeaderCompressor& operator=(const HeaderCompressor&) = delete;

  // Consumes an uncompressed block; returns its compressed bytes, ending at a sync flush so
  // the peer can decode it at once. kInternal if zlib fails (it then stays failed).
  Result<std::string> Compress(std::string_view block);
  // Encodes and compresses headers in one step.
  Result<std::string> CompressHeaders(const StreamHeaders& headers);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The receiving side's inflate stream for a whole connection.
class HeaderDecompressor {
 public:
  explicit HeaderDecompressor(HeaderLimits limits = {});
  ~HeaderDecompressor();
  HeaderDecompressor(const HeaderDecompressor&) = delete;
  HeaderDecompressor& operator=(const HeaderDecompressor&) = delete;

  // Consumes one frame's compressed block; returns the uncompressed block. Supplies the
  // SPDY/3 dictionary when zlib asks for it. Errors (kProtocol, sticky): bad zlib data, a
  // wrong dictionary, output beyond limits.max_block (decompression bombs stop there).
  Result<std::string> Decompress(std::string_view compressed);
  // Decompress + DecodeNvBlock.
  Result<StreamHeaders> DecompressHeaders(std::string_view compressed);

 private:
  struct State;
  std::unique_ptr<State> state_;
  HeaderLimits limits_;
};

}  // namespace kproxy::spdy
