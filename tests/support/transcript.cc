#include "tests/support/transcript.h"

#include <random>
#include <stdexcept>

#include "tests/support/test_env.h"

namespace kproxy::test {

std::string Transcript::ClientBytes() const {
  std::string out;
  for (const auto& r : records)
    if (r.direction == 'C') out += r.bytes;
  return out;
}

std::string Transcript::ServerBytes() const {
  std::string out;
  for (const auto& r : records)
    if (r.direction == 'S') out += r.bytes;
  return out;
}

Transcript LoadTranscript(const std::filesystem::path& path) {
  std::string data = ReadFileOrDie(path);
  Transcript t;
  size_t pos = 0;
  while (pos < data.size()) {
    if (data.size() - pos < 5) throw std::runtime_error("truncated record header in " + path.string());
    char dir = data[pos];
    if (dir != 'C' && dir != 'S') throw std::runtime_error("bad direction in " + path.string());
    uint32_t len = 0;
    for (int i = 1; i <= 4; ++i) len = (len << 8) | static_cast<uint8_t>(data[pos + i]);
    pos += 5;
    if (data.size() - pos < len) throw std::runtime_error("truncated record in " + path.string());
    t.records.push_back({dir, data.substr(pos, len)});
    pos += len;
  }
  return t;
}

std::vector<std::string> SplitWhole(const std::string& bytes) { return {bytes}; }

std::vector<std::string> SplitBytewise(const std::string& bytes) {
  std::vector<std::string> out;
  out.reserve(bytes.size());
  for (char c : bytes) out.emplace_back(1, c);
  return out;
}

std::vector<std::string> SplitRandom(const std::string& bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t n = std::uniform_int_distribution<size_t>(1, 64)(rng);
    n = std::min(n, bytes.size() - pos);
    out.push_back(bytes.substr(pos, n));
    pos += n;
  }
  return out;
}

}  // namespace kproxy::test
