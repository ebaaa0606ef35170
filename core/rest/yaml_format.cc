#include "core/rest/yaml_format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <regex>
#include <vector>

namespace kproxy {
namespace {

using nlohmann::json;

constexpr size_t kBestWidth = 80;  // go-yaml's emitter.best_width
constexpr size_t kIndent = 2;      // go-yaml's emitter.best_indent

// Decodes one UTF-8 sequence at s[i]; invalid bytes decode as themselves (one byte).
char32_t Rune(std::string_view s, size_t i, size_t& width) {
  auto b = static_cast<unsigned char>(s[i]);
  size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 1;
  if (i + n > s.size()) n = 1;
  if (n == 1) {
    width = 1;
    return b;
  }
  char32_t r = b & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) r = (r << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  width = n;
  return r;
}

// go-yaml's is_printable.
bool IsPrintable(char32_t r) {
  return r == 0x0A || (r >= 0x20 && r <= 0x7E) || r == 0x85 || (r >= 0xA0 && r <= 0xD7FF) ||
         (r >= 0xE000 && r <= 0xFFFD && r != 0xFEFF) || (r >= 0x10000 && r <= 0x10FFFF);
}
bool IsBreak(char32_t r) {
  return r == '\r' || r == '\n' || r == 0x85 || r == 0x2028 || r == 0x2029;
}
bool IsBlank(char32_t r) { return r == ' ' || r == '\t'; }

// Would go-yaml's resolver read this plain text as something other than a string? Then the
// encoder quotes it.
bool ResolvesToNonString(const std::string& s) {
  static const std::regex kSpecial(
      R"(^(~|null|Null|NULL|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)|<<)$)");
  static const std::regex kInt(R"(^[-+]?(0b[01_]+|0x[0-9a-fA-F_]+|0o?[0-7_]+|[0-9][0-9_]*)$)");
  static const std::regex kFloat(R"(^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$)");
  static const std::regex kBase60(R"(^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$)");
  static const std::regex kTimestamp(R"(^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?$)");
  return s.empty() || std::regex_match(s, kSpecial) || std::regex_match(s, kInt) ||
         std::regex_match(s, kFloat) || std::regex_match(s, kBase60) ||
         std::regex_match(s, kTimestamp);
}

// yaml_emitter_analyze_scalar, reduced to the answers block context needs.
struct Analysis {
  bool plain = true;
  bool single = true;
  bool block = true;
  bool multiline = false;
};

Analysis Analyze(std::string_view s) {
  Analysis a;
  if (s.empty()) {
    a.plain = false;
    return a;
  }
  bool block_indicators = false;
  if (s.substr(0, 3) == "---" || s.substr(0, 3) == "...") block_indicators = true;
  bool preceded_by_ws = true, leading_space = false, leading_break = false, trailing_space = false,
       trailing_break = false, break_space = false, space_break = false, special = false,
       prev_space = false, prev_break = false;
  size_t w = 0;
  for (size_t i = 0; i < s.size(); i += w) {
    char32_t r = Rune(s, i, w);
    bool first = i == 0;
    bool last = i + w >= s.size();
    size_t nw = 0;
    bool followed_by_ws = last || IsBlank(Rune(s, i + w, nw)) || IsBreak(Rune(s, i + w, nw));
    if (first) {
      switch (r) {
        case '#':
        case ',':
        case '[':
        case ']':
        case '{':
        case '}':
        case '&':
        case '*':
        case '!':
        case '|':
        case '>':
        case '\'':
        case '"':
        case '%':
        case '@':
        case '`':
          block_indicators = true;
          break;
        case '?':
        case ':':
        case '-':
          if (followed_by_ws) block_indicators = true;
          break;
        default:
          break;
      }
    } else {
      if (r == ':' && followed_by_ws) block_indicators = true;
      if (r == '#' && preceded_by_ws) block_indicators = true;
    }
    if (!IsPrintable(r) || r == 0xFEFF) special = true;
    if (IsBreak(r)) a.multiline = true;
    if (r == ' ') {
      if (first) leading_space = true;
      if (last) trailing_space = true;
      if (prev_break) break_space = true;
      prev_space = true;
      prev_break = false;
    } else if (IsBreak(r)) {
      if (first) leading_break = true;
      if (last) trailing_break = true;
      if (prev_space) space_break = true;
      prev_break = true;
      prev_space = false;
    } else {
      prev_space = prev_break = false;
    }
    preceded_by_ws = IsBlank(r) || IsBreak(r);
  }
  if (leading_space || leading_break || trailing_space || trailing_break) a.plain = false;
  if (trailing_space) a.block = false;
  if (break_space) a.plain = a.single = false;
  if (space_break || special) a.plain = a.single = a.block = false;
  if (a.multiline) a.plain = false;
  if (block_indicators) a.plain = false;
  return a;
}

// Go's strconv.FormatFloat(f, 'g', -1, 64), as go-yaml writes floats.
std::string GoFloat(double f) {
  if (std::isnan(f)) return ".nan";
  if (std::isinf(f)) return f > 0 ? ".inf" : "-.inf";
  char buf[64];
  int prec = 1;
  for (; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof(buf), "%.*e", prec - 1, f);
    if (std::strtod(buf, nullptr) == f) break;
  }
  std::string e(buf);  // d.ddde±XX
  size_t epos = e.find('e');
  int exp = std::stoi(e.substr(epos + 1));
  std::string mant = e.substr(0, epos);
  bool neg = mant[0] == '-';
  if (neg) mant.erase(0, 1);
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits += c;
  }
  std::string out = neg ? "-" : "";
  // Shortest 'g' switches to an exponent below 1e-4 and from 1e6 (eprec = 6 in strconv).
  if (exp < -4 || exp >= 6) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    std::string e_digits = std::to_string(std::abs(exp));
    if (e_digits.size() < 2) e_digits = "0" + e_digits;
    return out + "e" + (exp < 0 ? "-" : "+") + e_digits;
  }
  if (exp < 0) return out + "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  if (static_cast<size_t>(exp) + 1 >= digits.size()) {
    return out + digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0');
  }
  return out + digits.substr(0, static_cast<size_t>(exp) + 1) + "." +
         digits.substr(static_cast<size_t>(exp) + 1);
}

class Emitter {
 public:
  std::string out;

  void Node(const json& v, size_t indent, bool in_sequence);

 private:
  size_t column_ = 0;
  bool whitespace_ = true;  // the last thing written was whitespace (or nothing)

  void Put(std::string_view s) {
    for (size_t i = 0, w = 0; i < s.size(); i += w) {
      char32_t r = Rune(s, i, w);
      if (r == '\n') {
        column_ = 0;
      } else {
        ++column_;
      }
    }
    out.append(s);
    whitespace_ = !s.empty() && (s.back() == ' ' || s.back() == '\n');
  }
  void Indent(size_t indent) {
    if (column_ > 0) Put("\n");
    Put(std::string(indent, ' '));
    whitespace_ = true;
  }
  void Scalar(const std::string& s, size_t indent, bool simple_key);
  void Plain(std::string_view s, size_t indent, bool breaks);
  void Single(std::string_view s, size_t indent, bool breaks);
  void Double(std::string_view s, size_t indent, bool breaks);
  void Literal(std::string_view s, size_t indent);
  void Mapping(const json& v, size_t indent);
  void Sequence(const json& v, size_t indent);
};

void Emitter::Plain(std::string_view s, size_t indent, bool breaks) {
  if (!whitespace_) Put(" ");
  bool spaces = false;
  for (size_t i = 0, w = 0; i < s.size(); i += w) {
    char32_t r = Rune(s, i, w);
    if (r == ' ') {
      size_t nw;
      bool next_space = i + 1 < s.size() && Rune(s, i + 1, nw) == ' ';
      if (breaks && !spaces && column_ > kBestWidth && !next_space) {
        Indent(indent);
      } else {
        Put(s.substr(i, w));
      }
      spaces = true;
    } else {
      Put(s.substr(i, w));
      spaces = false;
    }
  }
}

void Emitter::Single(std::string_view s, size_t indent, bool breaks) {
  if (!whitespace_) Put(" ");
  Put("'");
  bool spaces = false;
  for (size_t i = 0, w = 0; i < s.size(); i += w) {
    char32_t r = Rune(s, i, w);
    if (r == ' ') {
      size_t nw;
      bool next_space = i + 1 < s.size() && Rune(s, i + 1, nw) == ' ';
      if (breaks && !spaces && column_ > kBestWidth && i > 0 && i + 1 < s.size() && !next_space) {
        Indent(indent);
      } else {
        Put(" ");
      }
      spaces = true;
    } else {
      if (r == '\'') Put("'");
      Put(s.substr(i, w));
      spaces = false;
    }
  }
  Put("'");
}

void Emitter::Double(std::string_view s, size_t indent, bool breaks) {
  static const char kHex[] = "0123456789ABCDEF";
  if (!whitespace_) Put(" ");
  Put("\"");
  bool spaces = false;
  for (size_t i = 0, w = 0; i < s.size(); i += w) {
    char32_t r = Rune(s, i, w);
    if (!IsPrintable(r) || r == 0xFEFF || IsBreak(r) || r == '"' || r == '\\') {
      std::string esc = "\\";
      switch (r) {
        case 0x00:
          esc += '0';
          break;
        case 0x07:
          esc += 'a';
          break;
        case 0x08:
          esc += 'b';
          break;
        case 0x09:
          esc += 't';
          break;
        case 0x0A:
          esc += 'n';
          break;
        case 0x0B:
          esc += 'v';
          break;
        case 0x0C:
          esc += 'f';
          break;
        case 0x0D:
          esc += 'r';
          break;
        case 0x1B:
          esc += 'e';
          break;
        case 0x22:
          esc += '"';
          break;
        case 0x5C:
          esc += '\\';
          break;
        case 0x85:
          esc += 'N';
          break;
        case 0xA0:
          esc += '_';
          break;
        case 0x2028:
          esc += 'L';
          break;
        case 0x2029:
          esc += 'P';
          break;
        default: {
          int digits = r <= 0xFF ? 2 : r <= 0xFFFF ? 4 : 8;
          esc += r <= 0xFF ? 'x' : r <= 0xFFFF ? 'u' : 'U';
          for (int k = digits - 1; k >= 0; --k) esc += kHex[(r >> (4 * k)) & 0xF];
        }
      }
      Put(esc);
      spaces = false;
    } else if (r == ' ') {
      if (breaks && !spaces && column_ > kBestWidth && i > 0 && i + 1 < s.size()) {
        Indent(indent);
        if (s[i + 1] == ' ') Put("\\");
      } else {
        Put(" ");
      }
      spaces = true;
    } else {
      Put(s.substr(i, w));
      spaces = false;
    }
  }
  Put("\"");
}

void Emitter::Literal(std::string_view s, size_t indent) {
  if (!whitespace_) Put(" ");
  std::string hints = "|";
  size_t w;
  char32_t first = Rune(s, 0, w);
  if (first == ' ' || IsBreak(first)) hints += std::to_string(kIndent);
  size_t trailing = 0;
  while (trailing < s.size() && s[s.size() - 1 - trailing] == '\n') ++trailing;
  if (trailing == 0) {
    hints += '-';
  } else if (trailing >= 2 || trailing == s.size()) {
    hints += '+';
  }
  Put(hints);
  Put("\n");
  bool at_line_start = true;
  for (size_t i = 0; i < s.size(); i += w) {
    char32_t r = Rune(s, i, w);
    if (r == '\n') {
      Put("\n");
      at_line_start = true;
    } else {
      if (at_line_start) Put(std::string(indent, ' '));
      at_line_start = false;
      Put(s.substr(i, w));
    }
  }
  if (!at_line_start) Put("\n");
}

void Emitter::Scalar(const std::string& s, size_t indent, bool simple_key) {
  Analysis a = Analyze(s);
  bool breaks = !simple_key;
  if (ResolvesToNonString(s)) {
    Double(s, indent, breaks);
  } else if (a.multiline) {
    if (a.block && !simple_key) {
      Literal(s, indent);
    } else {
      Double(s, indent, breaks);
    }
  } else if (a.plain) {
    Plain(s, indent, breaks);
  } else if (a.single) {
    Single(s, indent, breaks);
  } else {
    Double(s, indent, breaks);
  }
}

void Emitter::Mapping(const json& v, size_t indent) {
  std::vector<std::string> keys;
  for (auto it = v.begin(); it != v.end(); ++it) keys.push_back(it.key());
  std::sort(keys.begin(), keys.end(),
            [](const std::string& a, const std::string& b) { return YamlKeyLess(a, b); });
  bool first = true;
  for (const auto& k : keys) {
    // The first key of a sequence item continues the "- " line.
    if (!first || column_ == 0) Indent(indent);
    first = false;
    Scalar(k, indent + kIndent, true);
    Put(":");
    const json& value = v.at(k);
    if (value.is_object() && !value.empty()) {
      Put("\n");
      Mapping(value, indent + kIndent);
    } else if (value.is_array() && !value.empty()) {
      Put("\n");
      Sequence(value, indent);  // go-yaml: a mapping's sequence is not indented
    } else {
      Node(value, indent + kIndent, false);
    }
  }
}

void Emitter::Sequence(const json& v, size_t indent) {
  bool first = true;
  for (const auto& item : v) {
    if (!first || column_ == 0) Indent(indent);
    first = false;
    Put("-");
    if (item.is_object() && !item.empty()) {
      Put(" ");
      Mapping(item, indent + kIndent);
    } else if (item.is_array() && !item.empty()) {
      Put(" ");
      Sequence(item, indent + kIndent);
    } else {
      Node(item, indent + kIndent, true);
    }
  }
}

// Writes a scalar or empty collection after "key:" / "-", or a top-level value.
void Emitter::Node(const json& v, size_t indent, bool /*in_sequence*/) {
  if (v.is_object()) {
    if (v.empty()) {
      Put(whitespace_ ? "{}" : " {}");
    } else {
      Mapping(v, 0);
    }
  } else if (v.is_array()) {
    if (v.empty()) {
      Put(whitespace_ ? "[]" : " []");
    } else {
      Sequence(v, 0);
    }
  } else if (v.is_string()) {
    Scalar(v.get<std::string>(), indent, false);
  } else {
    std::string text = v.is_null()           ? "null"
                       : v.is_boolean()      ? (v.get<bool>() ? "true" : "false")
                       : v.is_number_float() ? GoFloat(v.get<double>())
                                             : v.dump();
    Put(whitespace_ ? text : " " + text);
  }
  if (!out.empty() && out.back() != '\n') Put("\n");
}

bool IsDigit(char32_t r) { return r >= '0' && r <= '9'; }
bool IsLetter(char32_t r) {
  // unicode.IsLetter, approximated: ASCII letters, and every non-ASCII code point.
  return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r >= 0x80;
}

}  // namespace

bool YamlKeyLess(std::string_view as, std::string_view bs) {
  std::vector<char32_t> a, b;
  for (size_t i = 0, w = 0; i < as.size(); i += w) a.push_back(Rune(as, i, w));
  for (size_t i = 0, w = 0; i < bs.size(); i += w) b.push_back(Rune(bs, i, w));
  bool digits = false;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] == b[i]) {
      digits = IsDigit(a[i]);
      continue;
    }
    bool al = IsLetter(a[i]), bl = IsLetter(b[i]);
    if (al && bl) return a[i] < b[i];
    if (al || bl) return digits ? al : bl;
    long long an = 0, bn = 0;
    if (a[i] == '0' || b[i] == '0') {
      for (size_t j = i; j-- > 0 && IsDigit(a[j]);) {
        if (a[j] != '0') {
          an = bn = 1;
          break;
        }
      }
    }
    size_t ai = i, bi = i;
    for (; ai < a.size() && IsDigit(a[ai]); ++ai) an = an * 10 + (a[ai] - '0');
    for (; bi < b.size() && IsDigit(b[bi]); ++bi) bn = bn * 10 + (b[bi] - '0');
    if (an != bn) return an < bn;
    if (ai != bi) return ai < bi;
    return a[i] < b[i];
  }
  return a.size() < b.size();
}

std::string KubectlYaml(const json& value) {
  Emitter e;
  e.Node(value, 0, false);
  return e.out;
}

}  // namespace kproxy
