// Fuzzes the API error-body decoder: any bytes, any status, any Content-Type.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/rest/api_status.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  int status = 100 + (data[0] | (data[1] << 8)) % 500;
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  std::string_view content_type = rest.size() % 3 == 0   ? "text/html"
                                  : rest.size() % 3 == 1 ? "application/json"
                                                         : "";
  (void)kproxy::ParseApiStatus(rest);
  kproxy::Error e = kproxy::ApiErrorFromResponse(status, content_type, rest, {"get", "pods", "x"});
  if (e.message.empty()) __builtin_trap();
  return 0;
}
