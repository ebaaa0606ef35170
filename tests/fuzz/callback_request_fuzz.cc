// Fuzz target for the loopback callback's request-head parser (auth/callback_request): the
// first byte picks a split point so partial input is exercised too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/callback_request.h"
#include "auth/route_url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t split = data[0] % (in.size() + 1);
  kproxy::auth::CallbackRequestParser p;
  p.Feed(in.substr(0, split));
  if (p.Feed(in.substr(split)) == kproxy::auth::CallbackRequestParser::State::kDone) {
    std::string path, query;
    kproxy::auth::SplitTarget(p.target(), &path, &query);
    (void)kproxy::auth::ParseQuery(query);
  }
  (void)kproxy::auth::NormalizeRouteUrl(in);
  return 0;
}
