#include "core/base/build_info.h"

namespace kproxy {

const char* Platform() {
#if defined(__linux__)
#define KPROXY_OS "linux"
#elif defined(__APPLE__)
#define KPROXY_OS "darwin"
#else
#define KPROXY_OS "unknown"
#endif
#if defined(__x86_64__)
  return KPROXY_OS "/amd64";
#elif defined(__aarch64__)
  return KPROXY_OS "/arm64";
#else
  return KPROXY_OS "/unknown";
#endif
#undef KPROXY_OS
}

std::string KproxyUserAgent() {
  return std::string("kproxy/v" KPROXY_VERSION " (") + Platform() + ") kubernetes/kproxy";
}

}  // namespace kproxy
