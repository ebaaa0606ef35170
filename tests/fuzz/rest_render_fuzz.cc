// Fuzzes what `get pods` does with a server's JSON: pod rows, the table, -o json and -o yaml.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "core/rest/object_format.h"
#include "core/rest/pod_table.h"
#include "core/rest/yaml_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1715342400));
  kproxy::PodTableOptions wide{true, true};
  (void)kproxy::PodRow(j, wide, now);
  (void)kproxy::PodTable(j.is_array() ? j : nlohmann::json::array({j}), wide, now);
  if (kproxy::KubectlYaml(j).empty()) __builtin_trap();
  if (kproxy::KubectlJson(j).empty()) __builtin_trap();
  return 0;
}
