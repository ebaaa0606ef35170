#include "core/transport/http_response_parser.h"

#include <algorithm>
#include <charconv>
#include <utility>

namespace kproxy::http {
namespace {
constexpr size_t kMaxChunkLine = 1024;
constexpr int kMaxInterimResponses = 8;

bool ParseDecimal(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}
}  // namespace

HttpResponseParser::HttpResponseParser(size_t max_head, size_t max_body)
    : max_head_(max_head), max_body_(max_body), head_(max_head) {}

Status HttpResponseParser::Fail(std::string message) {
  state_ = State::kFailed;
  error_ = std::move(message);
  return MakeError(ErrorCode::kProtocol, "HTTP response: " + error_);
}

void HttpResponseParser::Finish() { state_ = State::kDone; }

bool HttpResponseParser::AppendBody(std::string_view data) {
  const size_t room = max_body_ - response_.body.size();
  if (data.size() > room) {
    // Enough to classify the refusal; the rest is not buffered and the caller closes.
    response_.body.append(data.substr(0, room));
    response_.body_truncated = true;
    Finish();
    return false;
  }
  response_.body.append(data);
  return true;
}

Status HttpResponseParser::OnHead() {
  Headers headers;
  Result<std::string> start = ParseHead(head_.head(), &headers);
  if (!start.ok()) return Fail(start.error().message);
  std::string_view line = *start;
  // "HTTP/1.1 101 Switching Protocols" (the reason phrase may be empty).
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || (line[7] != '0' && line[7] != '1') ||
      line[8] != ' ')
    return Fail("bad status line");
  uint64_t status = 0;
  if (!ParseDecimal(line.substr(9, 3), &status) || status < 100 || status > 999 ||
      (line.size() > 12 && line[12] != ' '))
    return Fail("bad status code");
  std::string leftover = head_.TakeLeftover();
  if (status >= 100 && status < 200 && status != 101) {
    // Interim response (100 Continue): skip it and parse the next head. Bounded, so a peer
    // cannot make the (recursive) parse of one read arbitrarily deep.
    if (++interim_responses_ > kMaxInterimResponses) return Fail("too many interim responses");
    head_ = HeadAccumulator(max_head_);
    return Feed(leftover);
  }
  response_.status = static_cast<int>(status);
  response_.reason = line.size() > 13 ? std::string(line.substr(13)) : "";
  response_.headers = std::move(headers);

  const std::string te = response_.headers.Get("Transfer-Encoding");
  if (status == 101 || status == 204 || status == 304) {
    Finish();
    leftover_ = std::move(leftover);
    return Status::Ok();
  }
  if (!te.empty()) {
    if (!response_.headers.HasToken("Transfer-Encoding", "chunked"))
      return Fail("unsupported Transfer-Encoding " + te);
    state_ = State::kBodyChunkSize;
  } else if (response_.headers.Has("Content-Length")) {
    std::vector<std::string> lengths = response_.headers.GetAll("Content-Length");
    if (!std::all_of(lengths.begin(), lengths.end(),
                     [&](const std::string& l) { return l == lengths[0]; }) ||
        !ParseDecimal(TrimOws(lengths[0]), &remaining_))
      return Fail("bad Content-Length");
    state_ = State::kBodyLength;
    if (remaining_ == 0) Finish();
  } else {
    state_ = State::kBodyUntilClose;
  }
  if (leftover.empty()) return Status::Ok();
  return Feed(leftover);
}

Status HttpResponseParser::Feed(std::string_view bytes) {
  size_t i = 0;
  while (true) {
    switch (state_) {
      case State::kFailed:
        return MakeError(ErrorCode::kProtocol, "HTTP response: " + error_);
      case State::kDone:
        // After a truncated body the stream position is unknown: drop, never buffer.
        if (!response_.body_truncated) leftover_.append(bytes.substr(i));
        return Status::Ok();
      case State::kHead: {
        Result<bool> r = head_.Feed(bytes.substr(i));
        if (!r.ok()) return Fail(r.error().message);
        if (!*r) return Status::Ok();
        return OnHead();
      }
      default:
        break;
    }
    if (i == bytes.size()) return Status::Ok();
    std::string_view rest = bytes.substr(i);
    switch (state_) {
      case State::kBodyLength: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, rest.size()));
        i += take;
        remaining_ -= take;
        if (!AppendBody(rest.substr(0, take))) break;
        if (remaining_ == 0) Finish();
        break;
      }
      case State::kBodyUntilClose:
        i = bytes.size();
        AppendBody(rest);
        break;
      case State::kBodyChunkSize:
      case State::kBodyTrailers:
      case State::kBodyChunkCrlf: {
        const size_t nl = rest.find('\n');
        line_.append(rest.substr(0, nl));
        if (line_.size() > kMaxChunkLine) return Fail("chunk line too long");
        if (nl == std::string_view::npos) {
          i = bytes.size();
          break;
        }
        i += nl + 1;
        std::string_view line = line_;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (state_ == State::kBodyChunkCrlf) {
          if (!line.empty()) return Fail("missing CRLF after chunk");
          state_ = State::kBodyChunkSize;
        } else if (state_ == State::kBodyTrailers) {
          if (line.empty()) Finish();
        } else {
          line = TrimOws(line.substr(0, line.find(';')));  // drop chunk extensions
          uint64_t size = 0;
          auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
          if (line.empty() || line.size() > 15 || ec != std::errc() ||
              p != line.data() + line.size())
            return Fail("bad chunk size");
          remaining_ = size;
          state_ = size == 0 ? State::kBodyTrailers : State::kBodyChunkData;
        }
        line_.clear();
        break;
      }
      case State::kBodyChunkData: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, rest.size()));
        i += take;
        remaining_ -= take;
        if (!AppendBody(rest.substr(0, take))) break;
        if (remaining_ == 0) state_ = State::kBodyChunkCrlf;
        break;
      }
      default:
        break;
    }
  }
}

Status HttpResponseParser::FinishOnEof() {
  if (state_ == State::kBodyUntilClose) {
    Finish();
    return Status::Ok();
  }
  if (state_ == State::kDone) return Status::Ok();
  if (state_ == State::kFailed) return MakeError(ErrorCode::kProtocol, "HTTP response: " + error_);
  state_ = State::kFailed;
  error_ = "connection closed before the response was complete";
  return MakeError(ErrorCode::kUnavailable, "HTTP response: " + error_);
}

}  // namespace kproxy::http
