// Reader for ../shared/vectors/*.transcript: records of
// [1 byte direction 'C'|'S'][4 bytes big-endian length][bytes], in arrival order.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace kproxy::test {

struct TranscriptRecord {
  char direction;  // 'C' client->server, 'S' server->client
  std::string bytes;
};

struct Transcript {
  std::vector<TranscriptRecord> records;
  std::string ClientBytes() const;  // all 'C' records concatenated
  std::string ServerBytes() const;  // all 'S' records concatenated
};

// Throws std::runtime_error on a malformed file.
Transcript LoadTranscript(const std::filesystem::path& path);

// Splits `bytes` into pieces for decoder tests: whole, one byte at a time, or at random
// points (deterministic for a seed).
std::vector<std::string> SplitWhole(const std::string& bytes);
std::vector<std::string> SplitBytewise(const std::string& bytes);
std::vector<std::string> SplitRandom(const std::string& bytes, uint32_t seed);

}  // namespace kproxy::test
