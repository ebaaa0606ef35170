// How a YAML scalar is typed the way client-go's YAML→JSON step (go-yaml v2, YAML 1.1 rules)
// types it, and conversion of a YAML subtree to JSON for free-form fields (extensions,
// preferences). Bounded: depth and node count are capped so aliases cannot explode.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "core/base/result.h"
#include "core/kubeconfig/kubeconfig_model.h"

namespace kproxy::kubeconfig {

enum class ScalarType { kNull, kBool, kInt, kFloat, kString };

// Consumes a scalar node; returns its resolved type (quoted scalars are always strings).
ScalarType ResolveScalar(const YAML::Node& node);
const char* ScalarTypeName(ScalarType type);

// For a kBool scalar: its value (y/yes/on/true → true).
bool ScalarBoolValue(const std::string& text);

// Converts a YAML subtree to JSON; fails (message without location) past the limits or on
// non-string map keys that cannot be represented.
Result<Json> YamlToJson(const YAML::Node& node);

}  // namespace kproxy::kubeconfig
