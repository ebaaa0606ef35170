// kubectl's -o yaml: sigs.k8s.io/yaml, i.e. JSON re-read and emitted by go-yaml v2. Pure:
// a JSON value in, the exact text kubectl prints out.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace kproxy {

// Emits `value` as go-yaml v2 does: 2-space mappings, sequences under a key not indented,
// keys in go-yaml's natural order (digit runs compared as numbers), strings plain / 'single' /
// "double" / literal-block by go-yaml's scalar analysis, long lines folded past column 80.
std::string KubectlYaml(const nlohmann::json& value);

// go-yaml v2's key order: true when a sorts before b.
bool YamlKeyLess(std::string_view a, std::string_view b);

}  // namespace kproxy
