#include "tests/sim/server/http_request.h"

#include <cctype>

namespace kproxy::sim {

namespace {

// RFC 9110 §5.6.2 token characters.
bool IsTokenChar(unsigned char c) {
  if (std::isalnum(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return "";
}

std::vector<std::string> HttpRequest::Headers(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers)
    if (k == name) out.push_back(v);
  return out;
}

bool HttpRequest::HasHeader(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return true;
  return false;
}

std::string HttpRequest::Query(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return v;
  return "";
}

bool HttpRequest::HasQuery(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return true;
  return false;
}

bool HttpRequest::ConnectionHas(std::string_view token) const {
  std::string want = ToLower(token);
  for (const std::string& value : Headers("connection")) {
    std::string_view rest = value;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view item = Trim(rest.substr(0, comma));
      if (ToLower(item) == want) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

RequestHeadParser::RequestHeadParser(RequestLimits limits) : limits_(limits) {}

void RequestHeadParser::Fail(int status, std::string why) {
  state_ = State::kError;
  error_status_ = status;
  error_ = std::move(why);
  line_.clear();
}

size_t RequestHeadParser::Feed(std::string_view bytes) {
  size_t used = 0;
  while (used < bytes.size() && state_ == State::kNeedMore) {
    char c = bytes[used++];
    if (++head_bytes_ > limits_.max_head) {
      Fail(431, "request head too large");
      break;
    }
    if (c != '\n') {
      if (line_.size() >= limits_.max_line) {
        Fail(have_request_line_ ? 431 : 414,
             have_request_line_ ? "header line too long" : "request line too long");
        break;
      }
      line_.push_back(c);
      continue;
    }
    // Go's net/http (the API server) also accepts a bare LF line ending.
    std::string_view line = line_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    OnLine(line);
    line_.clear();
  }
  return used;
}

void RequestHeadParser::OnLine(std::string_view line) {
  if (!have_request_line_) {
    // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
    if (line.empty()) return;
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
        line.find(' ', sp2 + 1) != std::string_view::npos) {
      return Fail(400, "malformed request line");
    }
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (method.empty()) return Fail(400, "empty method");
    for (unsigned char c : method)
      if (!IsTokenChar(c)) return Fail(400, "malformed method");
    if (target.empty() || target.front() != '/') return Fail(400, "request target must be a path");
    for (unsigned char c : target)
      if (c <= 0x20 || c >= 0x7f) return Fail(400, "malformed request target");
    if (version != "HTTP/1.1" && version != "HTTP/1.0") {
      return Fail(version.substr(0, 5) == "HTTP/" ? 505 : 400, "unsupported HTTP version");
    }
    request_.method = std::string(method);
    request_.target = std::string(target);
    request_.version = std::string(version);
    size_t q = target.find('?');
    std::string_view raw_path = target.substr(0, q);
    if (q != std::string_view::npos) request_.raw_query = std::string(target.substr(q + 1));
    if (!PercentDecode(raw_path, false, &request_.path)) return Fail(400, "malformed path escape");
    if (!ParseQuery(request_.raw_query, &request_.query)) return Fail(400, "malformed query");
    have_request_line_ = true;
    return;
  }
  if (line.empty()) {
    if (request_.version == "HTTP/1.1" && !request_.HasHeader("host")) {
      return Fail(400, "missing required Host header");
    }
    state_ = State::kDone;
    return;
  }
  if (line.front() == ' ' || line.front() == '\t') {
    return Fail(400, "obsolete header line folding");  // RFC 9112 §5.2
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return Fail(400, "malformed header line");
  std::string_view name = line.substr(0, colon);
  for (unsigned char c : name)
    if (!IsTokenChar(c)) return Fail(400, "malformed header name");
  std::string_view value = Trim(line.substr(colon + 1));
  for (unsigned char c : value)
    if ((c < 0x20 && c != '\t') || c == 0x7f) return Fail(400, "control character in header");
  if (request_.headers.size() >= limits_.max_headers) return Fail(431, "too many headers");
  request_.headers.emplace_back(ToLower(name), std::string(value));
}

bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

std::string QueryEscape(std::string_view in) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

bool ParseQuery(std::string_view raw, std::vector<std::pair<std::string, std::string>>* out) {
  out->clear();
  while (!raw.empty()) {
    size_t amp = raw.find('&');
    std::string_view item = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string key, value;
    if (!PercentDecode(item.substr(0, eq), true, &key)) return false;
    if (eq != std::string_view::npos && !PercentDecode(item.substr(eq + 1), true, &value)) {
      return false;
    }
    out->emplace_back(std::move(key), std::move(value));
  }
  return true;
}

}  // namespace kproxy::sim
