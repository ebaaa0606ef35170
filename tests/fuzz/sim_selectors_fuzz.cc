// Fuzzes the label- and field-selector parsers (query parameters from any client).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "tests/sim/api/selectors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto labels = kproxy::sim::ParseLabelSelector(in);
  if (labels.ok()) (void)labels->Matches({{"app", "web"}, {"tier", ""}});
  auto fields = kproxy::sim::ParseFieldSelector(in);
  if (fields.ok()) {
    (void)fields->Matches([](const std::string& f, std::string* v) {
      *v = f;
      return f.size() % 2 == 0;
    });
  }
  return 0;
}
