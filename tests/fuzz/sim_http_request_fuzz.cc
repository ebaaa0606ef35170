// Fuzzes the simulator's HTTP request-head parser: arbitrary bytes, fed in data-chosen splits.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tests/sim/server/http_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the split size, so the fuzzer explores partial-input paths too.
  size_t step = 1 + data[0] % 64;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  kproxy::sim::RequestHeadParser parser;
  size_t pos = 0;
  while (pos < in.size() && parser.state() == kproxy::sim::RequestHeadParser::State::kNeedMore) {
    std::string_view piece = in.substr(pos, step);
    size_t used = parser.Feed(piece);
    if (used > piece.size()) __builtin_trap();
    pos += used;
    if (used < piece.size()) break;
  }
  if (parser.state() == kproxy::sim::RequestHeadParser::State::kError &&
      parser.error_status() < 400) {
    __builtin_trap();
  }
  return 0;
}
