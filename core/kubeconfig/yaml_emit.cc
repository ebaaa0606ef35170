#include "core/kubeconfig/yaml_emit.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "core/kubeconfig/yaml_value.h"

namespace kproxy::kubeconfig {
namespace {

std::string Pad(int n) { return std::string(static_cast<size_t>(n), ' '); }

bool HasControl(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

std::string DoubleQuoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// Whether `s` read back as a plain YAML 1.1 scalar would be something other than this string.
bool ResolvesToNonString(const std::string& s) {
  YAML::Node probe(s);  // plain scalar node: tag "?" like an unquoted value in a file
  probe.SetTag("?");
  return ResolveScalar(probe) != ScalarType::kString;
}

bool NeedsSingleQuotes(const std::string& s) {
  static const std::string kIndicators = "-?:,[]{}#&*!|>'\"%@`";
  if (kIndicators.find(s.front()) != std::string::npos) return true;
  if (s.front() == ' ' || s.back() == ' ' || s.back() == ':') return true;
  return s.find(": ") != std::string::npos || s.find(" #") != std::string::npos;
}

std::string ScalarText(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return v.dump();
  if (v.is_object()) return "{}";
  if (v.is_array()) return "[]";
  return YamlScalar(v.get<std::string>());
}

void EmitMap(const Json& m, int indent, std::string& out, bool first_inline);
void EmitSeq(const Json& s, int indent, std::string& out, bool first_inline);

void EmitAfterKey(const Json& v, int indent, std::string& out) {
  if (v.is_object() && !v.empty()) {
    out += "\n";
    EmitMap(v, indent + 2, out, false);
  } else if (v.is_array() && !v.empty()) {
    out += "\n";
    EmitSeq(v, indent, out, false);  // go-yaml puts "- " at the key's column
  } else {
    out += " " + ScalarText(v) + "\n";
  }
}

void EmitMap(const Json& m, int indent, std::string& out, bool first_inline) {
  std::vector<std::string> keys;
  for (auto it = m.begin(); it != m.end(); ++it) keys.push_back(it.key());
  std::sort(keys.begin(), keys.end());
  bool first = true;
  for (const auto& k : keys) {
    if (!(first && first_inline)) out += Pad(indent);
    first = false;
    out += YamlScalar(k) + ":";
    EmitAfterKey(m.at(k), indent, out);
  }
}

void EmitSeq(const Json& s, int indent, std::string& out, bool first_inline) {
  bool first = true;
  for (const auto& item : s) {
    if (!(first && first_inline)) out += Pad(indent);
    first = false;
    out += "- ";
    if (item.is_object() && !item.empty()) {
      EmitMap(item, indent + 2, out, true);
    } else if (item.is_array() && !item.empty()) {
      EmitSeq(item, indent + 2, out, true);
    } else {
      out += ScalarText(item) + "\n";
    }
  }
}

}  // namespace

std::string YamlScalar(const std::string& s) {
  if (s.empty()) return "\"\"";
  if (HasControl(s)) return DoubleQuoted(s);
  if (ResolvesToNonString(s)) return DoubleQuoted(s);  // "true", "123", "null" stay strings
  if (NeedsSingleQuotes(s)) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }
  return s;
}

std::string JsonToYaml(const Json& value) {
  std::string out;
  if (value.is_object() && !value.empty()) {
    EmitMap(value, 0, out, false);
  } else if (value.is_array() && !value.empty()) {
    EmitSeq(value, 0, out, false);
  } else {
    out = ScalarText(value) + "\n";
  }
  return out;
}

}  // namespace kproxy::kubeconfig
