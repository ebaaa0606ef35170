#include "core/transport/http_request_parser.h"

#include <algorithm>
#include <charconv>

#include "core/transport/http_upgrade.h"

namespace kproxy::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

const char* DefaultReason(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 426:
      return "Upgrade Required";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

}  // namespace

std::vector<std::string> HttpRequest::QueryAll(std::string_view key) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : query)
    if (k == key) out.push_back(v);
  return out;
}

std::string HttpRequest::Query(std::string_view key) const {
  for (const auto& [k, v] : query)
    if (k == key) return v;
  return "";
}

Result<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return MakeError(ErrorCode::kProtocol, "truncated percent escape");
      const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return MakeError(ErrorCode::kProtocol, "bad percent escape");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

HttpRequestParser::HttpRequestParser(size_t max_head, size_t max_body)
    : max_body_(max_body), head_(max_head) {}

Status HttpRequestParser::Fail(std::string message) {
  state_ = State::kFailed;
  error_ = std::move(message);
  return MakeError(ErrorCode::kProtocol, "HTTP request: " + error_);
}

Status HttpRequestParser::OnHead() {
  Result<std::string> start = ParseHead(head_.head(), &request_.headers);
  if (!start.ok()) return Fail(start.error().message);
  // "METHOD SP target SP HTTP/1.x"
  std::string_view line = *start;
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == 0 || sp2 == std::string_view::npos || sp2 == sp1 + 1) return Fail("bad request line");
  const std::string_view version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return Fail("unsupported HTTP version");
  request_.method = std::string(line.substr(0, sp1));
  request_.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  if (request_.target.front() != '/') return Fail("request target is not a path");
  std::string_view target = request_.target;
  const size_t q = target.find('?');
  Result<std::string> path = PercentDecode(target.substr(0, q), false);
  if (!path.ok()) return Fail(path.error().message);
  request_.path = std::move(*path);
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
      const size_t amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      if (!pair.empty()) {
        const size_t eq = pair.find('=');
        Result<std::string> k = PercentDecode(pair.substr(0, eq), true);
        Result<std::string> v =
            PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
        if (!k.ok() || !v.ok()) return Fail("bad query escape");
        request_.query.emplace_back(std::move(*k), std::move(*v));
      }
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  if (request_.headers.Has("Transfer-Encoding")) return Fail("request bodies must not be chunked");
  std::string leftover = head_.TakeLeftover();
  if (request_.headers.Has("Content-Length")) {
    const std::string cl(TrimOws(request_.headers.Get("Content-Length")));
    auto [p, ec] = std::from_chars(cl.data(), cl.data() + cl.size(), body_remaining_);
    if (cl.empty() || ec != std::errc() || p != cl.data() + cl.size())
      return Fail("bad Content-Length");
    if (body_remaining_ > max_body_) return Fail("request body too large");
  }
  state_ = body_remaining_ ? State::kBody : State::kDone;
  if (leftover.empty()) return Status::Ok();
  return Feed(leftover);
}

Status HttpRequestParser::Feed(std::string_view bytes) {
  switch (state_) {
    case State::kFailed:
      return MakeError(ErrorCode::kProtocol, "HTTP request: " + error_);
    case State::kHead: {
      Result<bool> r = head_.Feed(bytes);
      if (!r.ok()) return Fail(r.error().message);
      return *r ? OnHead() : Status::Ok();
    }
    case State::kBody: {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(body_remaining_, bytes.size()));
      body_remaining_ -= take;
      if (body_remaining_ == 0) {
        state_ = State::kDone;
        leftover_.append(bytes.substr(take));
      }
      return Status::Ok();
    }
    case State::kDone:
      leftover_.append(bytes);
      return Status::Ok();
  }
  return Status::Ok();
}

std::string BuildSwitchingProtocols(
    const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out = "HTTP/1.1 101 Switching Protocols\r\n";
  for (const auto& [k, v] : fields) out += k + ": " + v + "\r\n";
  out += "\r\n";
  return out;
}

std::string BuildWebSocketAccept(std::string_view client_key, std::string_view protocol) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"Upgrade", "websocket"},
      {"Connection", "Upgrade"},
      {"Sec-WebSocket-Accept", WebSocketAcceptFor(client_key)}};
  if (!protocol.empty()) fields.emplace_back("Sec-WebSocket-Protocol", std::string(protocol));
  return BuildSwitchingProtocols(fields);
}

std::string BuildSpdyAccept(std::string_view version) {
  std::vector<std::pair<std::string, std::string>> fields = {{"Connection", "Upgrade"},
                                                             {"Upgrade", "SPDY/3.1"}};
  if (!version.empty()) fields.emplace_back("X-Stream-Protocol-Version", std::string(version));
  return BuildSwitchingProtocols(fields);
}

std::string BuildErrorResponse(int status, std::string_view reason, std::string_view content_type,
                               std::string_view body,
                               const std::vector<std::pair<std::string, std::string>>& extra) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " +
                    (reason.empty() ? std::string(DefaultReason(status)) : std::string(reason)) +
                    "\r\n";
  if (!content_type.empty()) out += "Content-Type: " + std::string(content_type) + "\r\n";
  for (const auto& [k, v] : extra) out += k + ": " + v + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out.append(body);
  return out;
}

}  // namespace kproxy::http
