// Captures a refused upgrade's full response (status, headers AND body) by re-issuing the
// identical request over our own TLS connection. Needed because libwebsockets 4.1.6 reports
// a non-101 answer only as a status code and the string "HS: ws upgrade response not 101":
// the body — the Kubernetes Status JSON or the access proxy's denial page that the 403
// diagnostics need — never reaches the client callbacks. A WebSocket upgrade is a GET with no
// side effects, so asking twice is harmless. See ARCHITECTURE.md.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/base/result.h"
#include "core/diagnose/refusal.h"
#include "core/transport/event_loop.h"
#include "core/transport/tls_connection.h"

namespace kproxy {

// The incremental HTTP/1.1 response parser the capture feeds: HttpResponseReaderFactory() in
// production, an independent reader in tests.
class ResponseReader {
 public:
  enum class Progress { kNeedMore, kDone, kError };
  virtual ~ResponseReader() = default;
  // Consumes response bytes; kDone once status, headers and the (bounded) body are complete.
  virtual Progress Feed(std::string_view bytes) = 0;
  // The peer closed: a body delimited by EOF is complete now; a cut head is an error.
  virtual Progress FinishAtEof() = 0;
  // The parsed response (valid after kDone).
  virtual RefusedResponse Take() = 0;
  virtual std::string ErrorText() const = 0;
};
using ResponseReaderFactory = std::function<std::unique_ptr<ResponseReader>()>;

// The production reader: core/transport/http_response_parser (bounded head and body, chunked
// and read-until-close bodies). A truncated body is reported as what was read.
ResponseReaderFactory HttpResponseReaderFactory();

class RefusalCapture {
 public:
  // Dials `target`, sends `request` verbatim, and reports the parsed response once (or the
  // dial/parse error). `done` may destroy the capture.
  static std::unique_ptr<RefusalCapture> Start(EventLoop& loop, DialTarget target,
                                               std::string request, ResponseReaderFactory factory,
                                               std::function<void(Result<RefusedResponse>)> done);
  ~RefusalCapture();

 private:
  RefusalCapture() = default;
  void Finish(Result<RefusedResponse> r);
  std::unique_ptr<TlsConnection> conn_;
  std::unique_ptr<ResponseReader> reader_;
  std::function<void(Result<RefusedResponse>)> done_;
  bool finished_ = false;
  EventLoop* loop_ = nullptr;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace kproxy
