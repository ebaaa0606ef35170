// Fuzz target for the ExecCredential and KUBERNETES_EXEC_INFO decoders (auth/exec_credential).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/exec_credential.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)kproxy::auth::DecodeExecCredential(in, kproxy::auth::kExecApiV1);
  (void)kproxy::auth::DecodeExecCredential(in, kproxy::auth::kExecApiV1beta1);
  auto info = kproxy::auth::ParseExecInfo(in);
  if (info.ok()) (void)kproxy::auth::EncodeExecInfo(*info);
  (void)kproxy::auth::ParseRfc3339(in);
  return 0;
}
