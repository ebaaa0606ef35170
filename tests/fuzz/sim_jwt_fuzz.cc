// Fuzzes session-JWT verification and base64url decoding in the access-proxy emulator.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/sim/proxy/jwt.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string out;
  if (kproxy::sim::Base64UrlDecode(in, &out) && out.size() > in.size()) __builtin_trap();
  (void)kproxy::sim::VerifyJwt(in, "fuzz-secret");
  return 0;
}
