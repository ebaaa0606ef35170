// A test-only SPDY/3 frame builder, independent of core/spdy: its own big-endian writing,
// its own NV block layout, its own zlib calls and its own copy of the SPDY/3 dictionary
// (assembled from the draft's word list), so the production encoder and decoder cannot
// share a bug unseen.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kproxy::test::spdyb {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// The SPDY/3 dictionary rebuilt from the draft §2.6.10.1 listing.
const std::string& Dictionary();

std::string U32(uint32_t v);
// Uncompressed NV block: count, then len+name, len+value.
std::string NvBlock(const Pairs& pairs);

// One deflate stream for a connection direction (dictionary first, Z_SYNC_FLUSH per block).
class Deflater {
 public:
  Deflater();
  ~Deflater();
  std::string Compress(std::string_view block);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One inflate stream for a connection direction (dictionary on Z_NEED_DICT).
class Inflater {
 public:
  Inflater();
  ~Inflater();
  // Returns the inflated bytes, or nullopt-like empty + ok=false on a zlib error.
  std::string Inflate(std::string_view compressed, bool* ok);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string Control(uint16_t type, uint8_t flags, std::string_view payload, uint16_t version = 3);
std::string Data(uint32_t stream_id, uint8_t flags, std::string_view payload);
std::string SynStream(Deflater& z, uint32_t stream_id, uint8_t flags, const Pairs& pairs,
                      uint32_t assoc_id = 0, uint8_t priority = 0);
std::string SynReply(Deflater& z, uint32_t stream_id, uint8_t flags, const Pairs& pairs);
std::string Headers(Deflater& z, uint32_t stream_id, uint8_t flags, const Pairs& pairs);
std::string RstStream(uint32_t stream_id, uint32_t status);
std::string Ping(uint32_t id);
std::string GoAway(uint32_t last_good, uint32_t status);
std::string WindowUpdate(uint32_t stream_id, uint32_t delta);
std::string Settings(const std::vector<std::pair<uint32_t, uint32_t>>& id_values,
                     uint8_t entry_flags = 0);

}  // namespace kproxy::test::spdyb
