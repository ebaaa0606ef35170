// Fuzz target: the kubeconfig parser, the view serializer and the current-context editor must
// return a Result for any input, never crash or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/kubeconfig/config_view.h"
#include "core/kubeconfig/kubeconfig_parse.h"
#include "core/kubeconfig/kubeconfig_write.h"
#include "core/kubeconfig/yaml_emit.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 16)) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cfg = kproxy::kubeconfig::ParseKubeconfig(text, "fuzz.yaml", "/fuzz/fuzz.yaml");
  if (cfg.ok()) {
    kproxy::kubeconfig::ViewOptions raw;
    raw.raw = true;
    auto view = kproxy::kubeconfig::ConfigToViewJson(*cfg, raw);
    if (view.ok()) {
      // What we print must read back as the same config.
      std::string yaml = kproxy::kubeconfig::JsonToYaml(*view);
      auto again = kproxy::kubeconfig::ParseKubeconfig(yaml, "again.yaml", "/fuzz/fuzz.yaml");
      if (!again.ok() || again->clusters.size() != cfg->clusters.size()) __builtin_trap();
    }
    auto edited = kproxy::kubeconfig::SetCurrentContextText(text, "fuzz-ctx");
    (void)edited;
  }
  return 0;
}
