// kubectl's AGE text (k8s.io/apimachinery/pkg/util/duration.HumanDuration) and the RFC 3339
// timestamps it is computed from.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace kproxy {

// "45s", "2m5s", "3h10m", "5d2h", "2y10d"... Below -1s → "<invalid>", -1s..0 → "0s".
std::string HumanDuration(std::chrono::milliseconds d);

// Parses "2024-05-01T10:00:00Z" / "...T10:00:00.123456Z" / "...T10:00:00+02:00". nullopt when
// malformed.
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text);

// kubectl's translateTimestampSince: HumanDuration(now - ts), "<unknown>" when ts is missing or
// malformed.
std::string AgeSince(std::string_view rfc3339, std::chrono::system_clock::time_point now);

}  // namespace kproxy
