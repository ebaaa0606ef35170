// Fuzzes the Kubernetes protobuf envelope / review decoder used for kubectl's request bodies.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/sim/api/k8s_protobuf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string body("k8s\0", 4);
  body.append(reinterpret_cast<const char*>(data), size);
  (void)kproxy::sim::DecodeReviewRequest(body);
  (void)kproxy::sim::DecodeReviewRequest(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
