#include "core/rest/request_headers.h"

#include <cctype>
#include <cstring>

#include "core/base/build_info.h"

namespace kproxy {
namespace {

// RFC 7230 tchar.
bool IsTokenChar(unsigned char c) {
  return std::isalnum(c) || (c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}

}  // namespace

std::string UserAgent() { return KproxyUserAgent(); }

std::string EscapeExtraKey(std::string_view key) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : key) {
    auto c = static_cast<unsigned char>(std::tolower(static_cast<unsigned char>(ch)));
    // '%' is legal in a token but escaped so the server's unescape is unambiguous (client-go).
    if (!IsTokenChar(c) || c == '%') {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

HeaderList ImpersonationHeaders(const RestConfig& config) {
  HeaderList out;
  if (config.impersonate_user.empty()) return out;
  out.emplace_back("Impersonate-User", config.impersonate_user);
  for (const auto& g : config.impersonate_groups) out.emplace_back("Impersonate-Group", g);
  if (!config.impersonate_uid.empty()) out.emplace_back("Impersonate-Uid", config.impersonate_uid);
  for (const auto& [key, values] : config.impersonate_extra) {
    for (const auto& v : values) out.emplace_back("Impersonate-Extra-" + EscapeExtraKey(key), v);
  }
  return out;
}

}  // namespace kproxy
