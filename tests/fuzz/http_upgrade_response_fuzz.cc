// Fuzz target: incremental HTTP/1.1 response parser and the 101 validators.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/transport/http_response_parser.h"
#include "core/transport/http_upgrade.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t step = 1 + data[0] % 64;
  kproxy::http::HttpResponseParser p(4096, 4096);
  for (size_t off = 0; off < in.size(); off += step)
    if (!p.Feed(in.substr(off, step)).ok()) return 0;
  (void)p.FinishOnEof();
  if (p.response().body.size() > 4096) __builtin_trap();
  if (p.done()) {
    (void)kproxy::http::ValidateWebSocketUpgrade(p.response(),
                                                 "dGhlIHNhbXBsZSBub25jZQ==", {"v5.channel.k8s.io"});
    (void)kproxy::http::ValidateSpdyUpgrade(p.response(), {"v4.channel.k8s.io"});
  }
  return 0;
}
