#include "core/base/log.h"

#include <unistd.h>

#include <mutex>
#include <regex>
#include <vector>

namespace kproxy {
namespace {
int g_verbosity = 0;
std::mutex g_mu;
std::vector<std::string>& Secrets() {
  static std::vector<std::string> secrets;
  return secrets;
}
}  // namespace

void SetVerbosity(int level) { g_verbosity = level; }
int Verbosity() { return g_verbosity; }

void RegisterSecret(std::string_view secret) {
  if (secret.size() < 4) return;  // too short to redact without mangling ordinary text
  std::lock_guard<std::mutex> lock(g_mu);
  Secrets().emplace_back(secret);
}

std::string Redact(std::string_view text) {
  std::string out(text);
  {
    std::lock_guard<std::mutex> lock(g_mu);
    for (const auto& s : Secrets()) {
      for (size_t pos = out.find(s); pos != std::string::npos; pos = out.find(s, pos)) {
        out.replace(pos, s.size(), "REDACTED");
        pos += 8;
      }
    }
  }
  static const std::regex kAuth(R"((Authorization:\s*(Bearer|Basic)\s+)[^\s\r\n]+)",
                                std::regex::icase);
  return std::regex_replace(out, kAuth, "$1REDACTED");
}

void Log(int level, std::string_view message) {
  if (level > g_verbosity) return;
  std::string line = "kproxy: " + Redact(message) + "\n";
  // One write so lines from concurrent processes do not interleave.
  ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
  (void)n;
}

}  // namespace kproxy
