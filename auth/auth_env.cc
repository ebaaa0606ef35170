#include "auth/auth_env.h"

#include <openssl/rand.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace kproxy::auth {

Result<std::string> CryptoRandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
    return MakeError(ErrorCode::kInternal, "the system random number generator failed");
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char b : buf) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

AuthEnvironment AuthEnvironment::Process() {
  AuthEnvironment env;
  env.now = [] { return std::chrono::system_clock::now(); };
  env.random_hex = CryptoRandomHex;
  env.getenv = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  env.stdin_is_terminal = [] { return ::isatty(STDIN_FILENO) == 1; };
  env.tell_user = [](std::string_view line) {
    std::string text(line);
    text += "\n";
    ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
    (void)n;
  };
  return env;
}

}  // namespace kproxy::auth
