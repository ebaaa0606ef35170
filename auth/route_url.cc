#include "auth/route_url.h"

#include <algorithm>
#include <cctype>

namespace kproxy::auth {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> NormalizeRouteUrl(std::string_view url) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    return MakeError(ErrorCode::kUsage, "route URL must start with https:// or http://");
  }
  std::string scheme = Lower(url.substr(0, sep));
  if (scheme != "https" && scheme != "http") {
    return MakeError(ErrorCode::kUsage, "route URL scheme must be https or http");
  }
  std::string_view rest = url.substr(sep + 3);
  size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
  // Query and fragment never identify a route.
  if (size_t q = path.find_first_of("?#"); q != std::string::npos) path.resize(q);
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return MakeError(ErrorCode::kUsage, "route URL needs a host (and no user info)");
  }
  std::string host = Lower(authority);
  // Split host and port; IPv6 literals keep their brackets.
  std::string port;
  size_t colon = host.rfind(':');
  if (colon != std::string::npos && host.find(']', colon) == std::string::npos) {
    port = host.substr(colon + 1);
    host.resize(colon);
    if (port.empty() || !std::all_of(port.begin(), port.end(), ::isdigit) || port.size() > 5) {
      return MakeError(ErrorCode::kUsage, "route URL has an invalid port");
    }
  }
  if (host.empty()) return MakeError(ErrorCode::kUsage, "route URL needs a host");
  // Only a bracketed IPv6 literal may contain ':' ("h:1:2" is not a host and a port).
  bool ipv6 = host.front() == '[' && host.back() == ']';
  if (!ipv6 && host.find_first_of(":[]") != std::string::npos) {
    return MakeError(ErrorCode::kUsage, "route URL has an invalid host");
  }
  // The proxy's redirect allow-list compares URLs without the default port (Pomerium
  // rejects https://host:443 as a different route), so drop it.
  if ((scheme == "https" && port == "443") || (scheme == "http" && port == "80")) port.clear();
  while (!path.empty() && path.back() == '/') path.pop_back();
  std::string out = scheme + "://" + host;
  if (!port.empty()) out += ":" + port;
  return out + path;
}

std::string PercentEncode(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Result<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) {
        return MakeError(ErrorCode::kProtocol, "truncated percent escape");
      }
      int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return MakeError(ErrorCode::kProtocol, "invalid percent escape");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+') {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    auto name = PercentDecode(part.substr(0, eq));
    if (!name) return name.error();
    auto value = PercentDecode(eq == std::string_view::npos ? "" : part.substr(eq + 1));
    if (!value) return value.error();
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

}  // namespace kproxy::auth
