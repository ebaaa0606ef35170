// Fuzz target: incremental HTTP/1.1 request-head parser (the simulator's server side).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/transport/http_request_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t step = 1 + data[0] % 64;
  kproxy::http::HttpRequestParser p(4096, 4096);
  for (size_t off = 0; off < in.size(); off += step)
    if (!p.Feed(in.substr(off, step)).ok()) return 0;
  if (p.done()) {
    (void)p.request().QueryAll("command");
    (void)p.TakeLeftover();
  }
  return 0;
}
