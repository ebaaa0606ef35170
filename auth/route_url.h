// URL helpers for access-proxy routes and the loopback callback (auth.md §4, §5).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/result.h"

namespace kproxy::auth {

// Consumes a route URL ("https://Proxy.Example:443/"); returns scheme+host lower-cased, the
// scheme's default port dropped and trailing slashes removed ("https://proxy.example").
// Errors (kUsage) on a URL without http/https scheme or host.
Result<std::string> NormalizeRouteUrl(std::string_view url);

// RFC 3986 percent-encoding of everything outside the unreserved set.
std::string PercentEncode(std::string_view text);
// Decodes %XX and '+' (as space, form style); malformed escapes are an error.
Result<std::string> PercentDecode(std::string_view text);

// Splits "a=1&b=2" into decoded pairs, in order; malformed escapes are an error.
Result<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view query);

}  // namespace kproxy::auth
