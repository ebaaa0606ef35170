#include "tests/sim/api/selectors.h"

#include <cctype>

namespace kproxy::sim {

namespace {

bool IsKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
         c == '/';
}

bool IsValueChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

// A small recursive-descent lexer over the selector text (k8s labels.Parser's grammar).
class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}
  void SkipSpace() {
    while (i_ < s_.size() && s_[i_] == ' ') ++i_;
  }
  bool AtEnd() {
    SkipSpace();
    return i_ >= s_.size();
  }
  bool Eat(std::string_view tok) {
    SkipSpace();
    if (s_.substr(i_, tok.size()) == tok) {
      i_ += tok.size();
      return true;
    }
    return false;
  }
  bool EatWord(std::string_view word) {
    SkipSpace();
    if (s_.substr(i_, word.size()) == word &&
        (i_ + word.size() >= s_.size() || !IsKeyChar(s_[i_ + word.size()]))) {
      i_ += word.size();
      return true;
    }
    return false;
  }
  std::string Key() {
    SkipSpace();
    size_t start = i_;
    while (i_ < s_.size() && IsKeyChar(s_[i_])) ++i_;
    return std::string(s_.substr(start, i_ - start));
  }
  std::string Value() {
    SkipSpace();
    size_t start = i_;
    while (i_ < s_.size() && IsValueChar(s_[i_])) ++i_;
    return std::string(s_.substr(start, i_ - start));
  }
  char Peek() {
    SkipSpace();
    return i_ < s_.size() ? s_[i_] : '\0';
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

Error Bad(std::string_view text, const std::string& why) {
  return MakeError(ErrorCode::kUsage, "unable to parse requirement: " + why + " in selector \"" +
                                          std::string(text) + "\"");
}

}  // namespace

Result<LabelSelector> ParseLabelSelector(std::string_view text) {
  LabelSelector sel;
  Lexer lx(text);
  if (lx.AtEnd()) return sel;
  while (true) {
    Requirement r;
    if (lx.Eat("!")) {
      r.key = lx.Key();
      if (r.key.empty()) return Bad(text, "missing key after '!'");
      r.op = Requirement::Op::kDoesNotExist;
    } else {
      r.key = lx.Key();
      if (r.key.empty())
        return Bad(text, "found '" + std::string(1, lx.Peek()) + "', expected: identifier");
      if (lx.Eat("==") || lx.Eat("=")) {
        r.op = Requirement::Op::kEquals;
        r.values.push_back(lx.Value());
      } else if (lx.Eat("!=")) {
        r.op = Requirement::Op::kNotEquals;
        r.values.push_back(lx.Value());
      } else if (bool notin = lx.EatWord("notin"); notin || lx.EatWord("in")) {
        r.op = notin ? Requirement::Op::kNotIn : Requirement::Op::kIn;
        if (!lx.Eat("(")) return Bad(text, "expected '(' after set operator");
        while (true) {
          std::string v = lx.Value();
          r.values.push_back(v);
          if (lx.Eat(")")) break;
          if (!lx.Eat(",")) return Bad(text, "expected ',' or ')' in value set");
        }
      } else if (lx.Peek() == ',' || lx.AtEnd()) {
        r.op = Requirement::Op::kExists;
      } else {
        return Bad(text, "found '" + std::string(1, lx.Peek()) + "', expected: operator");
      }
    }
    sel.requirements.push_back(std::move(r));
    if (lx.AtEnd()) break;
    if (!lx.Eat(",")) return Bad(text, "expected ','");
  }
  return sel;
}

bool LabelSelector::Matches(const std::map<std::string, std::string>& labels) const {
  for (const Requirement& r : requirements) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    bool in_set = false;
    for (const std::string& v : r.values) in_set = in_set || (has && it->second == v);
    switch (r.op) {
      case Requirement::Op::kEquals:
      case Requirement::Op::kIn:
        if (!in_set) return false;
        break;
      case Requirement::Op::kNotEquals:
      case Requirement::Op::kNotIn:
        if (in_set) return false;
        break;
      case Requirement::Op::kExists:
        if (!has) return false;
        break;
      case Requirement::Op::kDoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
}

Result<FieldSelector> ParseFieldSelector(std::string_view text) {
  FieldSelector sel;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view term = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (term.empty()) continue;
    Requirement r;
    size_t pos;
    if ((pos = term.find("!=")) != std::string_view::npos) {
      r.op = Requirement::Op::kNotEquals;
      r.key = std::string(term.substr(0, pos));
      r.values.emplace_back(term.substr(pos + 2));
    } else if ((pos = term.find("==")) != std::string_view::npos) {
      r.key = std::string(term.substr(0, pos));
      r.values.emplace_back(term.substr(pos + 2));
    } else if ((pos = term.find('=')) != std::string_view::npos) {
      r.key = std::string(term.substr(0, pos));
      r.values.emplace_back(term.substr(pos + 1));
    } else {
      return MakeError(ErrorCode::kUsage, "invalid selector: '" + std::string(term) +
                                              "'; can't understand '" + std::string(term) + "'");
    }
    if (r.key.empty()) {
      return MakeError(ErrorCode::kUsage, "invalid selector: '" + std::string(term) + "'");
    }
    sel.requirements.push_back(std::move(r));
  }
  return sel;
}

bool FieldSelector::Matches(
    const std::function<bool(const std::string&, std::string*)>& field_value) const {
  for (const Requirement& r : requirements) {
    std::string v;
    if (!field_value(r.key, &v)) return false;
    bool eq = v == r.values.front();
    if ((r.op == Requirement::Op::kEquals) != eq) return false;
  }
  return true;
}

}  // namespace kproxy::sim
