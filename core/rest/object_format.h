// kubectl's -o json rendering and List wrapper of API objects (unstructured: keys sorted).
// Pure: JSON value in, text out.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace kproxy {

// Go's json.MarshalIndent(obj, "", "    ") + "\n": 4-space indent, sorted keys, and <, >, &
// escaped as \u003c, \u003e, \u0026 (Go's HTML-safe default).
std::string KubectlJson(const nlohmann::json& value);

// kubectl's list wrapper for several objects: {"apiVersion":"v1","items":[...],"kind":"List",
// "metadata":{"resourceVersion":""}}; each item gets apiVersion/kind when it lacks them.
nlohmann::json KubectlList(const nlohmann::json& items, const char* item_api_version,
                           const char* item_kind);

}  // namespace kproxy
