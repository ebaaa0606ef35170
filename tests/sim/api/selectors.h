// Label and field selectors as the apiserver parses them (k8s.io/apimachinery/pkg/labels and
// pkg/fields): `app=web,tier!=db`, `env in (a,b)`, `!legacy`, `status.phase=Running`.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"

namespace kproxy::sim {

struct Requirement {
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Op op = Op::kEquals;
  std::vector<std::string> values;
};

struct LabelSelector {
  std::vector<Requirement> requirements;  // ANDed
  bool Matches(const std::map<std::string, std::string>& labels) const;
};

// Parses a labelSelector query value; an error carries the apiserver's style of message.
Result<LabelSelector> ParseLabelSelector(std::string_view text);

struct FieldSelector {
  std::vector<Requirement> requirements;  // only kEquals / kNotEquals
  // `field_value` returns the object's value for a field, or false for an unsupported field.
  bool Matches(const std::function<bool(const std::string&, std::string*)>& field_value) const;
};

Result<FieldSelector> ParseFieldSelector(std::string_view text);

}  // namespace kproxy::sim
