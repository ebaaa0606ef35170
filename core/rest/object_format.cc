#include "core/rest/object_format.h"

#include <nlohmann/json.hpp>

namespace kproxy {

using nlohmann::json;

std::string KubectlJson(const json& value) {
  std::string text = value.dump(4, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  // These bytes only ever occur inside JSON strings, so escaping them textually is exact.
  for (char c : text) {
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else {
      out += c;
    }
  }
  return out + "\n";
}

json KubectlList(const json& items, const char* item_api_version, const char* item_kind) {
  json list = {{"apiVersion", "v1"},
               {"kind", "List"},
               {"metadata", {{"resourceVersion", ""}}},
               {"items", json::array()}};
  if (!items.is_array()) return list;
  for (json item : items) {
    if (item.is_object()) {
      if (!item.contains("apiVersion")) item["apiVersion"] = item_api_version;
      if (!item.contains("kind")) item["kind"] = item_kind;
    }
    list["items"].push_back(std::move(item));
  }
  return list;
}

}  // namespace kproxy
