#include "core/transport/refusal_capture.h"

#include "core/transport/http_response_parser.h"

namespace kproxy {
namespace {

class HttpResponseReader : public ResponseReader {
 public:
  Progress Feed(std::string_view bytes) override { return Map(parser_.Feed(bytes)); }
  Progress FinishAtEof() override { return Map(parser_.FinishOnEof()); }
  RefusedResponse Take() override {
    const http::HttpResponse& h = parser_.response();
    RefusedResponse r;
    r.status = h.status;
    r.headers = h.headers.fields();
    r.body = h.body;
    return r;
  }
  std::string ErrorText() const override { return error_; }

 private:
  Progress Map(const Status& st) {
    if (!st.ok()) {
      error_ = st.error().message;
      return Progress::kError;
    }
    return parser_.done() ? Progress::kDone : Progress::kNeedMore;
  }
  http::HttpResponseParser parser_;
  std::string error_;
};

}  // namespace

ResponseReaderFactory HttpResponseReaderFactory() {
  return [] { return std::make_unique<HttpResponseReader>(); };
}

std::unique_ptr<RefusalCapture> RefusalCapture::Start(
    EventLoop& loop, DialTarget target, std::string request, ResponseReaderFactory factory,
    std::function<void(Result<RefusedResponse>)> done) {
  std::unique_ptr<RefusalCapture> c(new RefusalCapture());
  RefusalCapture* self = c.get();
  c->loop_ = &loop;
  c->reader_ = factory();
  c->done_ = std::move(done);
  std::weak_ptr<bool> alive = c->alive_;
  c->conn_ = TlsConnection::Dial(
      loop, std::move(target),
      {[self](Status st) {
         if (!st.ok()) self->Finish(st.error());
       },
       [self](std::string_view bytes) {
         if (self->finished_) return;
         auto p = self->reader_->Feed(bytes);
         if (p == ResponseReader::Progress::kDone) {
           self->Finish(self->reader_->Take());
         } else if (p == ResponseReader::Progress::kError) {
           self->Finish(MakeError(ErrorCode::kProtocol,
                                  "malformed refusal response: " + self->reader_->ErrorText()));
         }
       },
       [self](Status st) {
         if (self->finished_) return;
         if (!st.ok()) {
           self->Finish(st.error());
           return;
         }
         auto p = self->reader_->FinishAtEof();
         if (p == ResponseReader::Progress::kDone)
           self->Finish(self->reader_->Take());
         else
           self->Finish(MakeError(ErrorCode::kProtocol,
                                  "refusal response cut short: " + self->reader_->ErrorText()));
       },
       nullptr});
  c->conn_->Write(request);
  return c;
}

RefusalCapture::~RefusalCapture() { *alive_ = false; }

void RefusalCapture::Finish(Result<RefusedResponse> r) {
  if (finished_) return;
  finished_ = true;
  // Close on the next iteration: we may be inside one of conn_'s callbacks.
  std::weak_ptr<bool> alive = alive_;
  loop_->Post([this, alive] {
    if (auto a = alive.lock(); a && *a && conn_) conn_->Close();
  });
  auto done = std::move(done_);
  if (done) done(std::move(r));
}

}  // namespace kproxy
