#include "core/kubeconfig/yaml_value.h"

#include <cstdlib>
#include <regex>

namespace kproxy::kubeconfig {
namespace {

constexpr int kMaxDepth = 100;
constexpr size_t kMaxNodes = 100000;  // aliases share nodes: expanding them must stay bounded

bool IsNull(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

// go-yaml v2 resolves the YAML 1.1 boolean words, which is why `password: y` fails in kubectl.
bool IsBoolWord(const std::string& s, bool* value) {
  static const char* const kTrue[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                      "True", "TRUE", "on",  "On",  "ON"};
  static const char* const kFalse[] = {"n",     "N",     "no",  "No",  "NO", "false",
                                       "False", "FALSE", "off", "Off", "OFF"};
  for (const char* t : kTrue)
    if (s == t) {
      if (value) *value = true;
      return true;
    }
  for (const char* f : kFalse)
    if (s == f) {
      if (value) *value = false;
      return true;
    }
  return false;
}

bool IsInt(const std::string& s) {
  static const std::regex kInt(R"(^[-+]?(0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|0b[01_]+|0[0-7_]+)$)");
  return std::regex_match(s, kInt);
}

bool IsFloat(const std::string& s) {
  static const std::regex kFloat(
      R"(^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$)");
  return std::regex_match(s, kFloat);
}

// client-go's YAML→JSON step turns non-string keys into their text form: a plain `n:` key
// (YAML 1.1 boolean) becomes "false", `0x10:` becomes "16". kubectl shows exactly that.
std::string JsonKey(const YAML::Node& key) {
  if (key.IsNull()) return "null";
  const std::string& s = key.Scalar();
  switch (ResolveScalar(key)) {
    case ScalarType::kBool:
      return ScalarBoolValue(s) ? "true" : "false";
    case ScalarType::kNull:
      return "null";
    case ScalarType::kInt: {
      std::string digits;
      for (char c : s)
        if (c != '_') digits += c;
      char* end = nullptr;
      long long v = std::strtoll(digits.c_str(), &end, 0);
      return end && *end == '\0' ? std::to_string(v) : s;
    }
    default:
      return s;
  }
}

struct Converter {
  size_t nodes = 0;
  Result<Json> Convert(const YAML::Node& node, int depth) {
    if (++nodes > kMaxNodes) return MakeError(ErrorCode::kConfig, "document too large");
    if (depth > kMaxDepth) return MakeError(ErrorCode::kConfig, "document nested too deeply");
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return Json(nullptr);
      case YAML::NodeType::Scalar: {
        const std::string& s = node.Scalar();
        switch (ResolveScalar(node)) {
          case ScalarType::kNull:
            return Json(nullptr);
          case ScalarType::kBool:
            return Json(ScalarBoolValue(s));
          case ScalarType::kInt: {
            std::string digits;
            for (char c : s)
              if (c != '_') digits += c;
            char* end = nullptr;
            long long v = std::strtoll(digits.c_str(), &end, 0);
            if (end && *end == '\0') return Json(v);
            return Json(s);
          }
          case ScalarType::kFloat: {
            char* end = nullptr;
            double v = std::strtod(s.c_str(), &end);
            if (end && *end == '\0') return Json(v);
            return Json(s);  // .inf/.nan have no JSON form
          }
          case ScalarType::kString:
            return Json(s);
        }
        return Json(s);
      }
      case YAML::NodeType::Sequence: {
        Json out = Json::array();
        for (const auto& item : node) {
          auto v = Convert(item, depth + 1);
          if (!v.ok()) return v;
          out.push_back(std::move(*v));
        }
        return out;
      }
      case YAML::NodeType::Map: {
        Json out = Json::object();
        for (const auto& kv : node) {
          if (!kv.first.IsScalar() && !kv.first.IsNull())
            return MakeError(ErrorCode::kConfig, "map key is not a scalar");
          auto v = Convert(kv.second, depth + 1);
          if (!v.ok()) return v;
          out[JsonKey(kv.first)] = std::move(*v);
        }
        return out;
      }
    }
    return Json(nullptr);
  }
};

}  // namespace

ScalarType ResolveScalar(const YAML::Node& node) {
  if (node.IsNull()) return ScalarType::kNull;
  if (!node.IsScalar()) return ScalarType::kString;
  // "!" marks a quoted scalar; an explicit !!str tag also forces a string.
  const std::string& tag = node.Tag();
  if (tag == "!" || tag == "tag:yaml.org,2002:str") return ScalarType::kString;
  const std::string& s = node.Scalar();
  if (IsNull(s)) return ScalarType::kNull;
  if (IsBoolWord(s, nullptr)) return ScalarType::kBool;
  if (IsInt(s)) return ScalarType::kInt;
  if (IsFloat(s)) return ScalarType::kFloat;
  return ScalarType::kString;
}

const char* ScalarTypeName(ScalarType type) {
  switch (type) {
    case ScalarType::kNull:
      return "null";
    case ScalarType::kBool:
      return "a boolean";
    case ScalarType::kInt:
      return "a number";
    case ScalarType::kFloat:
      return "a number";
    case ScalarType::kString:
      return "a string";
  }
  return "a value";
}

bool ScalarBoolValue(const std::string& text) {
  bool v = false;
  IsBoolWord(text, &v);
  return v;
}

Result<Json> YamlToJson(const YAML::Node& node) {
  Converter c;
  return c.Convert(node, 0);
}

}  // namespace kproxy::kubeconfig
