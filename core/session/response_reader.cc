#include "core/session/response_reader.h"

#include "core/transport/http_response_parser.h"

namespace kproxy {
namespace {

class ParserReader : public ResponseReader {
 public:
  Progress Feed(std::string_view bytes) override {
    if (!parser_.Feed(bytes).ok()) return Progress::kError;
    return parser_.done() ? Progress::kDone : Progress::kNeedMore;
  }
  Progress FinishAtEof() override {
    if (parser_.done()) return Progress::kDone;
    Status s = parser_.FinishOnEof();
    if (!s.ok()) {
      error_ = s.error().message;
      return Progress::kError;
    }
    return parser_.done() ? Progress::kDone : Progress::kError;
  }
  RefusedResponse Take() override {
    const http::HttpResponse& r = parser_.response();
    RefusedResponse out;
    out.status = r.status;
    out.headers = r.headers.fields();
    out.body = r.body;
    return out;
  }
  std::string ErrorText() const override { return error_.empty() ? "malformed response" : error_; }

 private:
  http::HttpResponseParser parser_;
  std::string error_;
};

}  // namespace

ResponseReaderFactory MakeRefusalReaderFactory() {
  return [] { return std::unique_ptr<ResponseReader>(new ParserReader()); };
}

}  // namespace kproxy
