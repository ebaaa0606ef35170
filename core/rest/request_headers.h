// The headers every API request carries (protocols.md §1, auth.md §1): User-Agent, Accept and
// kubectl's impersonation headers. Pure functions: config in, header list out.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/kubeconfig/rest_config.h"

namespace kproxy {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// "kproxy/v<ver> (linux/amd64) kubernetes/kproxy": access proxies look for "kubernetes/" to
// answer errors as Status JSON instead of HTML sign-in pages.
std::string UserAgent();

inline constexpr std::string_view kDefaultAccept = "application/json, */*";

// Impersonate-User, one Impersonate-Group per group (order kept), Impersonate-Uid, and
// Impersonate-Extra-<key> per extra value. Empty when config.impersonate_user is empty.
HeaderList ImpersonationHeaders(const RestConfig& config);

// An extra key as client-go puts it in a header name: lower-cased, then every byte that is not
// an HTTP token character (and '%' itself) percent-encoded as %XX (upper-case hex).
std::string EscapeExtraKey(std::string_view key);

}  // namespace kproxy
