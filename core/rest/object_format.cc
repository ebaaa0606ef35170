#include "core/rest/object_format.h"

#include <cctype>
#include <cstring>
#include <nlohmann/json.hpp>
#include <regex>

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

namespace {

// Would go-yaml's resolver read this plain scalar as something other than a string?
bool ResolvesToNonString(const std::string& s) {
  static const std::regex kSpecial(
      R"(^(~|null|Null|NULL|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$)");
  static const std::regex kInt(R"(^[-+]?(0b[01_]+|0x[0-9a-fA-F_]+|0o?[0-7_]+|[0-9][0-9_]*)$)");
  static const std::regex kFloat(R"(^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$)");
  static const std::regex kBase60(R"(^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$)");
  static const std::regex kTimestamp(R"(^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?$)");
  return s.empty() || std::regex_match(s, kSpecial) || std::regex_match(s, kInt) ||
         std::regex_match(s, kFloat) || std::regex_match(s, kBase60) ||
         std::regex_match(s, kTimestamp);
}

bool Printable(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// The emitter's plain-scalar analysis (yaml_emitter_analyze_scalar), for block context.
bool PlainAllowed(const std::string& s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ') return false;
  char first = s.front();
  if (std::strchr(",[]{}#&*!|>'\"%@`", first)) return false;
  if ((first == '-' || first == '?' || first == ':') && (s.size() == 1 || s[1] == ' ')) {
    return false;
  }
  if (s.back() == ':') return false;
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos) return false;
  if (s.rfind("---", 0) == 0 || s.rfind("...", 0) == 0) return false;
  return Printable(s);
}

std::string DoubleQuoted(const std::string& s) {
  // A JSON string is a valid YAML double-quoted scalar.
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string Scalar(const std::string& s) {
  if (ResolvesToNonString(s) || !Printable(s)) return DoubleQuoted(s);
  if (PlainAllowed(s)) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

bool MultiLinePrintable(const std::string& s) {
  if (s.find('\n') == std::string::npos) return false;
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\n') || c == 0x7f) return false;
  }
  return true;
}

void Emit(const json& v, int indent, std::string& out);

// Writes a value that follows "key:" or "- " on the same line (or starts a nested block).
void EmitAfterKey(const json& v, int indent, std::string& out, bool in_sequence) {
  if (v.is_object() && !v.empty()) {
    out += '\n';
    Emit(v, indent + 2, out);
  } else if (v.is_array() && !v.empty()) {
    out += '\n';
    // go-yaml puts a mapping's sequence at the key's own indentation.
    Emit(v, in_sequence ? indent + 2 : indent, out);
  } else if (v.is_string() && MultiLinePrintable(v.get<std::string>())) {
    std::string s = v.get<std::string>();
    size_t trailing = 0;
    while (trailing < s.size() && s[s.size() - 1 - trailing] == '\n') ++trailing;
    out += trailing == 0 ? " |-\n" : trailing == 1 ? " |\n" : " |+\n";
    std::string body = s.substr(0, s.size() - trailing);
    size_t pos = 0;
    while (true) {
      size_t nl = body.find('\n', pos);
      std::string line = body.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      if (!line.empty()) out += std::string(indent + 2, ' ') + line;
      out += '\n';
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
    for (size_t i = 1; i < trailing; ++i) out += '\n';
  } else {
    out += ' ';
    Emit(v, indent, out);
  }
}

void Emit(const json& v, int indent, std::string& out) {
  std::string pad(indent, ' ');
  if (v.is_object()) {
    if (v.empty()) {
      out += "{}\n";
      return;
    }
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      // The first key of a sequence item shares the "- " line.
      if (!first || out.empty() || out.back() == '\n') out += pad;
      first = false;
      out += Scalar(it.key()) + ":";
      EmitAfterKey(it.value(), indent, out, false);
    }
  } else if (v.is_array()) {
    if (v.empty()) {
      out += "[]\n";
      return;
    }
    for (const auto& item : v) {
      out += pad + "-";
      if (item.is_object() && !item.empty()) {
        out += ' ';
        std::string nested;
        Emit(item, indent + 2, nested);
        out += nested.substr(indent + 2);  // first line continues after "- "
      } else if (item.is_array() && !item.empty()) {
        out += ' ';
        std::string nested;
        Emit(item, indent + 2, nested);
        out += nested.substr(indent + 2);
      } else {
        EmitAfterKey(item, indent, out, true);
      }
    }
  } else if (v.is_string()) {
    out += Scalar(v.get<std::string>()) + "\n";
  } else if (v.is_null()) {
    out += "null\n";
  } else {
    out += v.dump() + "\n";
  }
}

}  // namespace

std::string KubectlYaml(const json& value) {
  std::string out;
  Emit(value, 0, out);
  return out;
}

}  // namespace kproxy
