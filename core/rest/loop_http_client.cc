#include "core/rest/loop_http_client.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/base/log.h"
#include "core/rest/request_headers.h"
#include "core/rest/token_file.h"
#include "core/transport/http_headers.h"
#include "core/transport/http_response_parser.h"
#include "core/transport/tls_connection.h"

namespace kproxy {
namespace {

// Bigger responses are refused rather than buffered without bound (a pod list of a large
// namespace stays far below).
constexpr size_t kMaxResponseBody = 64u << 20;
// With no --request-timeout the wait is effectively unbounded, as curl's is; dialing keeps its
// own 30 s bound (DialTarget::timeout).
constexpr std::chrono::hours kNoTimeout{24};

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool HasHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& h : headers)
    if (http::EqualsIgnoreCase(h.first, name)) return true;
  return false;
}

// A header line must not break the head: no CR/LF/NUL anywhere, a non-empty name without
// separators.
bool SafeHeader(const std::string& name, const std::string& value) {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (c <= 0x20 || c >= 0x7f || c == ':') return false;
  for (unsigned char c : value)
    if (c == '\r' || c == '\n' || c == 0) return false;
  return true;
}

std::string Base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

bool DefaultPort(const Endpoint& e) {
  return (e.scheme == "https" && e.port == 443) || (e.scheme == "http" && e.port == 80);
}

std::string HostHeader(const Endpoint& e) {
  std::string h = e.host.find(':') != std::string::npos ? "[" + e.host + "]" : e.host;
  return DefaultPort(e) ? h : h + ":" + std::to_string(e.port);
}

std::string Display(const Endpoint& e) { return e.scheme + "://" + HostHeader(e); }

// TlsConnection's dial messages start with their own "unable to connect to the server X: ";
// ours names the server once, as the curl client's do.
std::string DialDetail(std::string message) {
  constexpr std::string_view kPrefix = "unable to connect to the server ";
  if (StartsWith(message, kPrefix)) {
    size_t sep = message.find(": ", kPrefix.size());
    if (sep != std::string::npos) message.erase(0, sep + 2);
  }
  return message;
}

bool SameProxy(const std::optional<ProxyChoice>& a, const std::optional<ProxyChoice>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->host == b->host && a->port == b->port && a->authorization == b->authorization);
}

// The connection a lookup dialed is the one the upgrade would dial: same peer, same tunnel,
// same trust and client identity (the path prefix and the dial timeout do not matter once
// open). ALPN must be exactly http/1.1 on both: an upgrade cannot ride anything else.
bool SameDial(const DialTarget& a, const DialTarget& b) {
  const std::vector<std::string> h1 = {"http/1.1"};
  return a.server.scheme == b.server.scheme && a.server.host == b.server.host &&
         a.server.port == b.server.port && SameProxy(a.proxy, b.proxy) &&
         a.tls.ca_pem == b.tls.ca_pem && a.tls.insecure == b.tls.insecure &&
         a.tls.server_name == b.tls.server_name && a.tls.client_cert_pem == b.tls.client_cert_pem &&
         a.tls.client_key_pem == b.tls.client_key_pem && a.tls.alpn == h1 && b.tls.alpn == h1;
}

class LoopHttpClient : public HttpClient {
 public:
  LoopHttpClient(EventLoop& loop, const RestConfig& config, LoopHttpClientOptions options)
      : loop_(loop), config_(config), options_(std::move(options)) {
    if (!options_.getenv) options_.getenv = [](const char* n) { return ::getenv(n); };
    if (!config_.token_file.empty() && config_.bearer_token.empty())
      token_file_ = std::make_unique<TokenFileSource>(config_.token_file, options_.now);
    RegisterSecret(config_.bearer_token);
    RegisterSecret(config_.password);
    RegisterSecret(config_.client_key_data);
  }
  ~LoopHttpClient() override { Drop(); }

  Result<HttpResponse> Do(const HttpRequest& request) override;
  std::unique_ptr<TlsConnection> TakeIdle(const DialTarget& target,
                                          TlsConnection::Callbacks callbacks);

 private:
  struct Target {
    DialTarget dial;
    std::string origin;   // scheme://host:port — the connection-reuse key
    std::string display;  // the server for messages
    std::string logged;   // the full URL for -v logs
    std::string request_target;
  };
  // One request/response on the current connection.
  struct Exchange {
    http::HttpResponseParser parser{http::kMaxHeadBytes, kMaxResponseBody};
    bool got_bytes = false;
    bool done = false;
    std::optional<Error> error;
    DialFailure dial = DialFailure::kNone;
  };

  Result<Target> Resolve(const std::string& path) const;
  Result<std::string> BuildHead(const HttpRequest& request, const Target& t);
  Error TransportError(const Exchange& x, const Target& t) const;
  void Dial(const Target& t);
  void Drop();
  void OnData(std::string_view bytes);
  void OnClosed(Status st);

  EventLoop& loop_;
  RestConfig config_;
  LoopHttpClientOptions options_;
  std::unique_ptr<TokenFileSource> token_file_;
  std::unique_ptr<TlsConnection> conn_;
  // conn_'s callbacks forward through this, so a new owner can take them over (TakeIdle).
  std::shared_ptr<TlsConnection::Callbacks> conn_cb_;
  DialTarget conn_target_;
  std::string conn_origin_;
  bool conn_usable_ = false;
  Exchange* current_ = nullptr;
};

Result<LoopHttpClient::Target> LoopHttpClient::Resolve(const std::string& path) const {
  auto server = ParseServerUrl(config_.server);
  if (!server.ok())
    return MakeError(ErrorCode::kConfig, "invalid server URL \"" + config_.server + "\"");
  Endpoint ep = *server;
  std::string target;
  if (StartsWith(path, "https://") || StartsWith(path, "http://")) {
    auto abs = ParseServerUrl(path);
    if (!abs.ok()) return MakeError(ErrorCode::kConfig, "invalid URL \"" + path + "\"");
    ep = *abs;
    target = ep.path.empty() ? "/" : ep.path;
    if (target[0] == '?') target = "/" + target;
  } else {
    std::string prefix = ep.path;
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    target = prefix + (StartsWith(path, "/") ? "" : "/") + path;
  }
  for (unsigned char c : target)
    if (c <= 0x20 || c >= 0x7f) return MakeError(ErrorCode::kConfig, "invalid request path");
  Target t;
  RestConfig c = config_;
  c.server = ep.scheme + "://" + ep.Authority();
  auto dial = DialTargetFromRestConfig(c, options_.getenv);
  if (!dial.ok()) return dial.error();
  t.dial = std::move(*dial);
  t.origin = ep.scheme + "://" + ep.Authority();
  t.display = Display(ep);
  t.logged = t.display + target;
  t.request_target = std::move(target);
  return t;
}

Result<std::string> LoopHttpClient::BuildHead(const HttpRequest& request, const Target& t) {
  HeaderList h;
  h.emplace_back("Host", HostHeader(t.dial.server));
  h.emplace_back("User-Agent", UserAgent());
  if (!HasHeader(request.headers, "Accept")) h.emplace_back("Accept", std::string(kDefaultAccept));
  for (const auto& kv : request.headers) h.push_back(kv);
  if (request.authenticate) {
    std::string token = config_.bearer_token;
    if (token.empty() && token_file_) {
      auto tok = token_file_->Token();
      if (!tok.ok()) return tok.error();
      token = *tok;
    }
    if (!HasHeader(request.headers, "Authorization")) {
      if (!token.empty()) {
        h.emplace_back("Authorization", "Bearer " + token);
      } else if (!config_.username.empty() || !config_.password.empty()) {
        std::string basic = "Basic " + Base64(config_.username + ":" + config_.password);
        RegisterSecret(basic);
        h.emplace_back("Authorization", std::move(basic));
      }
    }
    for (auto& kv : ImpersonationHeaders(config_)) h.push_back(std::move(kv));
  }
  bool has_body = !request.body.empty() || request.method == "POST" || request.method == "PUT" ||
                  request.method == "PATCH";
  if (has_body) h.emplace_back("Content-Length", std::to_string(request.body.size()));
  std::string head = request.method + " " + t.request_target + " HTTP/1.1\r\n";
  for (const auto& [k, v] : h) {
    if (!SafeHeader(k, v))
      return MakeError(ErrorCode::kUsage, "the header \"" + Redact(k) + "\" cannot be sent");
    head += k + ": " + v + "\r\n";
  }
  head += "\r\n";
  if (Verbosity() >= 7) {
    std::string line = request.method + " " + t.logged;
    for (const auto& [k, v] : h) line += "\n    " + k + ": " + Redact(v);
    Log(7, line);
  }
  return head + request.body;
}

void LoopHttpClient::Dial(const Target& t) {
  Drop();
  conn_origin_ = t.origin;
  conn_target_ = t.dial;
  conn_usable_ = true;
  conn_cb_ = std::make_shared<TlsConnection::Callbacks>(
      TlsConnection::Callbacks{[this](Status st) {
                                 if (!st.ok()) {
                                   conn_usable_ = false;
                                   if (current_ && !current_->error) {
                                     current_->error = st.error();
                                     current_->dial = conn_ ? conn_->failure() : DialFailure::kNone;
                                   }
                                 }
                               },
                               [this](std::string_view bytes) { OnData(bytes); },
                               [this](Status st) { OnClosed(std::move(st)); }, nullptr});
  auto cb = conn_cb_;
  conn_ = TlsConnection::Dial(loop_, t.dial,
                              {[cb](Status st) {
                                 if (cb->on_connected) cb->on_connected(std::move(st));
                               },
                               [cb](std::string_view bytes) {
                                 if (cb->on_data) cb->on_data(bytes);
                               },
                               [cb](Status st) {
                                 if (cb->on_closed) cb->on_closed(std::move(st));
                               },
                               [cb] {
                                 if (cb->on_drained) cb->on_drained();
                               }});
}

std::unique_ptr<TlsConnection> LoopHttpClient::TakeIdle(const DialTarget& target,
                                                        TlsConnection::Callbacks callbacks) {
  if (!conn_ || !conn_usable_ || current_ || !conn_->connected() || !SameDial(conn_target_, target))
    return nullptr;
  // From here on the connection calls the new owner only; this client forgets it.
  *conn_cb_ = std::move(callbacks);
  conn_cb_.reset();
  conn_usable_ = false;
  conn_origin_.clear();
  Log(6, "handing the kept-alive connection to " + Display(target.server) + " over");
  return std::move(conn_);
}

void LoopHttpClient::Drop() {
  if (conn_) conn_->Close();
  conn_.reset();
  conn_cb_.reset();
  conn_usable_ = false;
  conn_origin_.clear();
}

void LoopHttpClient::OnData(std::string_view bytes) {
  if (!current_ || current_->done || current_->error) {
    conn_usable_ = false;  // bytes nobody asked for: the stream position is unknown
    return;
  }
  current_->got_bytes = true;
  Status st = current_->parser.Feed(bytes);
  if (!st.ok()) {
    current_->error = st.error();
    conn_usable_ = false;
  } else if (current_->parser.done()) {
    current_->done = true;
  }
}

void LoopHttpClient::OnClosed(Status st) {
  conn_usable_ = false;
  if (!current_ || current_->done || current_->error) return;
  if (!st.ok()) {
    current_->error = st.error();
    current_->dial = DialFailure::kLost;
    return;
  }
  Status eof = current_->parser.FinishOnEof();
  if (eof.ok() && current_->parser.done()) {
    current_->done = true;
  } else {
    current_->error = MakeError(ErrorCode::kUnavailable, "connection closed by the server");
    current_->dial = DialFailure::kLost;
  }
}

Error LoopHttpClient::TransportError(const Exchange& x, const Target& t) const {
  const std::string prefix = "Unable to connect to the server " + t.display + ": ";
  std::string why = DialDetail(x.error ? x.error->message : "unknown error");
  ErrorCode code = x.error ? x.error->code : ErrorCode::kUnavailable;
  Error e;
  switch (x.dial) {
    case DialFailure::kDns:
      e = MakeError(ErrorCode::kUnavailable, prefix + "DNS lookup failed (" + why + ")");
      break;
    case DialFailure::kTcp:
      e = MakeError(ErrorCode::kUnavailable, prefix + "TCP connection failed (" + why + ")");
      break;
    case DialFailure::kProxy:
      e = MakeError(ErrorCode::kUnavailable, prefix + "the proxy refused (" + why + ")");
      break;
    case DialFailure::kVerify:
      e = MakeError(ErrorCode::kUnavailable,
                    prefix + "TLS: the server's certificate could not be verified (" + why + ")");
      break;
    case DialFailure::kTls:
      e = code == ErrorCode::kConfig
              ? MakeError(ErrorCode::kConfig,
                          prefix + "TLS settings rejected (client certificate or CA data): " + why)
              : MakeError(ErrorCode::kUnavailable, prefix + "TLS handshake failed (" + why + ")");
      break;
    case DialFailure::kAlpnH2:
      // Only the streaming commands use this client, and they would fail at the upgrade anyway:
      // the same code as an upgrade refused for HTTP/2 (exit 82), said before any attempt.
      e = MakeError(ErrorCode::kUpgradeRejected,
                    prefix + "the front end speaks only HTTP/2 (ALPN h2) and refused http/1.1" +
                        "\nkproxy: exec, attach and port-forward need an HTTP/1.1 upgrade, which " +
                        "HTTP/2 does not have. Enable HTTP/1.1 on that listener or use an L4 " +
                        "(TCP) proxy route.");
      break;
    case DialFailure::kTimeout:
      e = MakeError(ErrorCode::kTimeout, prefix + "the request timed out (" + why + ")");
      break;
    case DialFailure::kLost:
      e = MakeError(ErrorCode::kUnavailable, prefix + "connection lost (" + why + ")");
      break;
    case DialFailure::kNone:
      e = code == ErrorCode::kProtocol
              ? MakeError(ErrorCode::kUnavailable, prefix + "malformed response (" + why + ")")
              : MakeError(code, prefix + why);
      break;
  }
  e.message = Redact(e.message);
  return e;
}

Result<HttpResponse> LoopHttpClient::Do(const HttpRequest& request) {
  if (request.method == "HEAD" || request.method == "CONNECT")
    return MakeError(ErrorCode::kInternal, request.method + " is not supported by this client");
  auto target = Resolve(request.path);
  if (!target.ok()) return target.error();
  auto wire = BuildHead(request, *target);
  if (!wire.ok()) return wire.error();

  const auto timeout = config_.timeout.count() > 0
                           ? config_.timeout
                           : std::chrono::duration_cast<std::chrono::milliseconds>(kNoTimeout);
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + timeout;
  std::unique_ptr<Exchange> xp;
  // A kept-alive connection the server closed meanwhile fails before any byte arrives: send
  // once more on a fresh connection (only then; an answered request is never repeated).
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = conn_ && conn_usable_ && conn_origin_ == target->origin;
    if (!reused) Dial(*target);
    xp = std::make_unique<Exchange>();
    Exchange& x = *xp;
    current_ = &x;
    conn_->Write(*wire);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 1) left = std::chrono::milliseconds(1);
    bool finished = loop_.RunUntil([&x] { return x.done || x.error.has_value(); }, left);
    current_ = nullptr;
    if (!finished) {
      Drop();
      x.error = MakeError(ErrorCode::kTimeout,
                          "no complete response within " + std::to_string(timeout.count()) + " ms");
      x.dial = DialFailure::kTimeout;
      break;
    }
    if (x.error && reused && !x.got_bytes) {
      Log(6, "the kept-alive connection to " + target->display + " was closed; redialing");
      Drop();
      continue;
    }
    break;
  }
  Exchange& x = *xp;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count();
  if (x.error) {
    Drop();
    Error e = TransportError(x, *target);
    Log(6, request.method + " " + target->logged + " failed in " + std::to_string(ms) +
               " ms: " + e.message);
    return e;
  }
  const http::HttpResponse& r = x.parser.response();
  if (r.body_truncated) {
    Drop();
    return MakeError(ErrorCode::kProtocol, "the response from " + target->display +
                                               " is larger than 64 MiB; refusing it");
  }
  // Keep the connection only when the response ended by its framing and the server did not
  // ask to close; anything left over means the stream position is unknown.
  std::string leftover = x.parser.TakeLeftover();
  bool framed = r.headers.Has("Content-Length") || r.headers.Has("Transfer-Encoding") ||
                r.status == 204 || r.status == 304;
  if (!framed || !leftover.empty() || r.headers.HasToken("Connection", "close") || !conn_usable_)
    Drop();
  HttpResponse out;
  out.status = r.status;
  out.headers = r.headers.fields();
  out.body = r.body;
  Log(6, request.method + " " + target->logged + " " + std::to_string(out.status) + " in " +
             std::to_string(ms) + " milliseconds");
  if (Verbosity() >= 8) {
    std::string line = "Response headers:";
    for (const auto& [k, v] : out.headers) line += "\n    " + k + ": " + v;
    Log(8, line);
  }
  return out;
}

}  // namespace

std::unique_ptr<HttpClient> MakeLoopHttpClient(EventLoop& loop, const RestConfig& config,
                                               LoopHttpClientOptions options) {
  return std::make_unique<LoopHttpClient>(loop, config, std::move(options));
}

std::unique_ptr<TlsConnection> TakeIdleConnection(HttpClient& client, const DialTarget& target,
                                                  TlsConnection::Callbacks callbacks) {
  auto* loop_client = dynamic_cast<LoopHttpClient*>(&client);
  if (!loop_client) return nullptr;
  return loop_client->TakeIdle(target, std::move(callbacks));
}

}  // namespace kproxy
