// Fuzz target: RFC 6455 frame/message decoder in both roles, input split at a data-chosen point.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tests/support/ws_frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto role =
      (data[0] & 1) ? kproxy::test::ws::Role::kServer : kproxy::test::ws::Role::kClient;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t cut = in.empty() ? 0 : data[0] % (in.size() + 1);
  kproxy::test::ws::MessageDecoder dec(role, 1 << 16);
  std::vector<kproxy::test::ws::Message> out;
  if (dec.Feed(in.substr(0, cut), &out).ok()) (void)dec.Feed(in.substr(cut), &out);
  size_t total = 0;
  for (const auto& m : out) total += m.payload.size();
  if (total > in.size()) __builtin_trap();  // a decoder never invents bytes
  return 0;
}
