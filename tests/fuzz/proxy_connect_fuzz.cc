// Fuzzes the CONNECT reply parser and NO_PROXY matching: no crash, bounded memory, and the
// parser never leaves kError.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/transport/proxy_config.h"
#include "core/transport/proxy_connect.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  kproxy::ConnectReplyParser p;
  size_t cut = size ? data[0] % (size + 1) : 0;
  auto s1 = p.Feed(std::string_view(in).substr(0, cut));
  auto s2 = p.Feed(std::string_view(in).substr(cut));
  if (s1 == kproxy::ConnectReplyParser::State::kError &&
      s2 != kproxy::ConnectReplyParser::State::kError)
    __builtin_trap();
  size_t comma = in.find('\n');
  if (comma != std::string::npos)
    (void)kproxy::NoProxyMatches(in.substr(0, comma), in.substr(comma + 1), 443);
  (void)kproxy::ParseServerUrl(in);
  return 0;
}
