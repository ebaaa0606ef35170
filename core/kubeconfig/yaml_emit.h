// Emits JSON as YAML the way kubectl prints it (sigs.k8s.io/yaml → go-yaml v2): map keys sorted,
// lists at their key's indentation, strings quoted only when they would read back as something
// else. Used for `config view` and for writing values into kubeconfig files.
#pragma once

#include <string>

#include "core/kubeconfig/kubeconfig_model.h"

namespace kproxy::kubeconfig {

// Consumes any JSON value; returns the YAML document text (ends with a newline).
std::string JsonToYaml(const Json& value);

// A single string as a YAML scalar: plain when safe, quoted otherwise.
std::string YamlScalar(const std::string& text);

}  // namespace kproxy::kubeconfig
