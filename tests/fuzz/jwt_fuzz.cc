// Fuzz target for the JWT claims decoder (auth/jwt_claims): any input must give a value or a
// defined error, never a crash or an unbounded allocation.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/jwt_claims.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto claims = kproxy::auth::DecodeJwtClaims(in);
  if (claims.ok()) {
    volatile size_t n = claims->sub.size() + claims->aud.size() + claims->groups.size();
    (void)n;
  }
  // Also as a bare payload segment.
  (void)kproxy::auth::Base64UrlDecode(in);
  return 0;
}
