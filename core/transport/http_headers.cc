#include "core/transport/http_headers.h"

#include <algorithm>
#include <cctype>

namespace kproxy::http {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Headers::Get(std::string_view name) const {
  for (const auto& [k, v] : fields_)
    if (EqualsIgnoreCase(k, name)) return v;
  return "";
}

bool Headers::Has(std::string_view name) const {
  for (const auto& [k, v] : fields_)
    if (EqualsIgnoreCase(k, name)) return true;
  return false;
}

std::vector<std::string> Headers::GetAll(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : fields_)
    if (EqualsIgnoreCase(k, name)) out.push_back(v);
  return out;
}

bool Headers::HasToken(std::string_view name, std::string_view token) const {
  for (const auto& [k, v] : fields_) {
    if (!EqualsIgnoreCase(k, name)) continue;
    std::string_view rest = v;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      if (EqualsIgnoreCase(TrimOws(rest.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

namespace {
bool IsTokenChar(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  if (std::isalnum(u)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
}  // namespace

Result<std::string> ParseHead(std::string_view head, Headers* headers) {
  std::vector<std::string_view> lines;
  while (!head.empty()) {
    size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    head.remove_prefix(nl + 1);
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.empty()) return MakeError(ErrorCode::kProtocol, "empty HTTP head");
  std::vector<std::pair<std::string, std::string>> fields;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line.front() == ' ' || line.front() == '\t') {
      if (fields.empty()) return MakeError(ErrorCode::kProtocol, "continuation before any field");
      std::string_view more = TrimOws(line);
      if (!more.empty()) {
        if (!fields.back().second.empty()) fields.back().second += ' ';
        fields.back().second += more;
      }
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return MakeError(ErrorCode::kProtocol, "malformed header line");
    std::string_view name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), IsTokenChar))
      return MakeError(ErrorCode::kProtocol, "invalid header name");
    fields.emplace_back(std::string(name), std::string(TrimOws(line.substr(colon + 1))));
  }
  for (auto& [k, v] : fields) headers->Add(std::move(k), std::move(v));
  return std::string(lines[0]);
}

Result<bool> HeadAccumulator::Feed(std::string_view bytes) {
  if (done_) {
    leftover_.append(bytes);
    return true;
  }
  // Search only the region that could contain a new terminator.
  const size_t start = head_.size() >= 3 ? head_.size() - 3 : 0;
  const size_t room = max_ - head_.size();
  head_.append(bytes.substr(0, room + 1));
  for (size_t i = start; i < head_.size(); ++i) {
    if (head_[i] != '\n') continue;
    size_t end = 0;
    if (i >= 1 && head_[i - 1] == '\n') end = i + 1;
    if (i >= 2 && head_[i - 1] == '\r' && head_[i - 2] == '\n') end = i + 1;
    if (end == 0) continue;
    const size_t consumed_from_bytes = end - (head_.size() - std::min(bytes.size(), room + 1));
    leftover_.assign(bytes.substr(consumed_from_bytes));
    head_.resize(end);
    done_ = true;
    return true;
  }
  if (head_.size() > max_) return MakeError(ErrorCode::kProtocol, "HTTP head too large");
  return false;
}

}  // namespace kproxy::http
