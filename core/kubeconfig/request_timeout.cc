#include "core/kubeconfig/request_timeout.h"

#include <cctype>
#include <string>

namespace kproxy::kubeconfig {
namespace {

Error Invalid() {
  // kubectl's own wording (staging/src/k8s.io/client-go/rest/config.go callers).
  return MakeError(ErrorCode::kUsage,
                   "Invalid timeout value. Timeout must be a single integer in seconds, or an "
                   "integer followed by a corresponding time unit (e.g. 1s | 2m | 3h)");
}

constexpr double kMaxMillis = 9.2e15;  // far beyond any sane timeout; keeps the cast defined

}  // namespace

Result<std::chrono::milliseconds> ParseRequestTimeout(std::string_view text) {
  if (text.empty()) return Invalid();
  bool all_digits = true;
  for (char c : text) all_digits &= std::isdigit(static_cast<unsigned char>(c)) != 0;
  if (all_digits) {
    if (text.size() > 12) return Invalid();
    return std::chrono::milliseconds(std::stoll(std::string(text)) * 1000);
  }
  // Go's time.ParseDuration: [+]?(number unit)+ ; kubectl rejects negative timeouts.
  size_t i = 0;
  if (text[0] == '+') ++i;
  if (i == text.size()) return Invalid();
  double total_ms = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    size_t int_end = i;
    size_t frac_start = i;
    if (i < text.size() && text[i] == '.') {
      frac_start = ++i;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    }
    if (int_end == start && i == frac_start) return Invalid();  // no digits at all
    if (i - start > 20) return Invalid();
    double number = std::stod("0" + std::string(text.substr(start, i - start)));
    size_t unit_start = i;
    while (i < text.size() && !std::isdigit(static_cast<unsigned char>(text[i])) && text[i] != '.')
      ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    double scale;
    if (unit == "ns")
      scale = 1e-6;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      scale = 1e-3;
    else if (unit == "ms")
      scale = 1;
    else if (unit == "s")
      scale = 1000;
    else if (unit == "m")
      scale = 60e3;
    else if (unit == "h")
      scale = 3600e3;
    else
      return Invalid();
    total_ms += number * scale;
    if (total_ms > kMaxMillis) return Invalid();
  }
  return std::chrono::milliseconds(static_cast<long long>(total_ms));
}

}  // namespace kproxy::kubeconfig
