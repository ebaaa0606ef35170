#include "core/transport/ws_client.h"

#include <libwebsockets.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/base/log.h"
#include "core/transport/ws_client_tls.h"

namespace kproxy {
namespace {

constexpr const char* kProtocolName = "kproxy-ws";

int Trampoline(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
  return WsClient::Callback(wsi, static_cast<int>(reason), user, in, len);
}

const lws_protocols kWsProtocols[] = {
    {kProtocolName, Trampoline, 0, 64 * 1024, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

std::string Base64(const unsigned char* data, size_t len) {
  std::string out(4 * ((len + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(len));
  out.resize(static_cast<size_t>(n));
  return out;
}

ErrorCode CodeForStatus(int status) {
  if (status == 401) return ErrorCode::kUnauthenticated;
  if (status == 403) return ErrorCode::kForbidden;
  return ErrorCode::kUpgradeRejected;
}

DialFailure ClassifyLwsError(const std::string& why) {
  std::string w = why;
  std::transform(w.begin(), w.end(), w.begin(), [](unsigned char c) { return std::tolower(c); });
  if (w.find("proxy") != std::string::npos) return DialFailure::kProxy;
  if (w.find("getaddrinfo") != std::string::npos || w.find("dns") != std::string::npos ||
      w.find("resolve") != std::string::npos)
    return DialFailure::kDns;
  if (w.find("verify") != std::string::npos || w.find("certificate") != std::string::npos)
    return DialFailure::kVerify;
  if (w.find("ssl") != std::string::npos || w.find("tls") != std::string::npos)
    return DialFailure::kTls;
  if (w.find("timed out") != std::string::npos || w.find("timeout") != std::string::npos)
    return DialFailure::kTimeout;
  return DialFailure::kTcp;
}

}  // namespace

WsClient::WsClient(EventLoop& loop, WsClientOptions options, Callbacks callbacks)
    : loop_(loop),
      options_(std::move(options)),
      cb_(std::move(callbacks)),
      alive_(std::make_shared<bool>(true)) {
  for (const auto& p : options_.subprotocols) {
    if (!joined_protocols_.empty()) joined_protocols_ += ",";
    joined_protocols_ += p;
  }
  const Endpoint& s = options_.target.server;
  bool default_port =
      (s.scheme == "https" && s.port == 443) || (s.scheme == "http" && s.port == 80);
  host_header_ = default_port
                     ? (s.host.find(':') != std::string::npos ? "[" + s.host + "]" : s.host)
                     : s.Authority();
  options_.target.tls.alpn = {"http/1.1"};
}

std::unique_ptr<WsClient> WsClient::Connect(EventLoop& loop, WsClientOptions options,
                                            Callbacks callbacks) {
  std::unique_ptr<WsClient> c(new WsClient(loop, std::move(options), std::move(callbacks)));
  WsClient* self = c.get();
  std::weak_ptr<bool> alive = c->alive_;
  // Every outcome is reported after Connect() returned, never from inside it.
  loop.Post([self, alive] {
    if (auto a = alive.lock(); a && *a) self->Start();
  });
  return c;
}

WsClient::~WsClient() {
  *alive_ = false;
  if (ping_timer_) loop_.CancelTimer(ping_timer_);
  if (dial_timer_) loop_.CancelTimer(dial_timer_);
  if (wsi_) {
    // Detach first: lws may still call back for this wsi while it is being killed.
    lws_set_wsi_user(wsi_, nullptr);
    lws_set_timeout(wsi_, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    wsi_ = nullptr;
  }
  // Never destroy the vhost from inside one of its own callbacks: defer it. The SSL_CTX is
  // released by a guard owned by the deferred task, so it is freed even when the loop is
  // destroyed before the task ran (lws_context_destroy then frees the vhost itself).
  std::shared_ptr<SSL_CTX> release(ssl_ctx_, SSL_CTX_free);  // live SSLs hold their own ref
  ssl_ctx_ = nullptr;
  if (vhost_) {
    lws_vhost* vh = vhost_;
    loop_.Post([vh, release] { lws_vhost_destroy(vh); });
  }
}

void WsClient::Start() {
  const DialTarget& t = options_.target;
  bool tls = t.server.scheme == "https";
  static int counter = 0;
  vhost_name_ = "kproxy-ws-" + std::to_string(++counter);

  lws_context_creation_info vinfo;
  std::memset(&vinfo, 0, sizeof vinfo);
  vinfo.port = CONTEXT_PORT_NO_LISTEN;
  vinfo.protocols = kWsProtocols;
  vinfo.vhost_name = vhost_name_.c_str();
  vinfo.user = this;
  vinfo.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  if (tls) {
    // Our own SSL_CTX: lws 4.1.6 shares one client SSL_CTX between vhosts whose TLS
    // *options* hash the same, so material configured through its callbacks would leak from
    // one server's connection into another's. A provided context is never touched by lws;
    // ours is the process-wide one for this TLS material (the lookup already built it), and
    // everything per connection is applied to the SSL (WsTlsPeer).
    auto ctx = AcquireWsClientSslCtx(t.tls);
    if (!ctx.ok()) {
      WsConnectFailure f;
      f.error = ctx.error();
      f.dial = DialFailure::kTls;
      ReportFailure(std::move(f));
      return;
    }
    ssl_ctx_ = *ctx;
    tls_peer_ = std::make_unique<WsTlsPeer>(t.tls, t.server.host, &wsi_);
    vinfo.provided_client_ssl_ctx = ssl_ctx_;
  }
  std::string proxy_host;
  if (t.proxy) {
    proxy_host = t.proxy->host;
    vinfo.http_proxy_address = proxy_host.c_str();
    vinfo.http_proxy_port = t.proxy->port;
  }
  {
    // lws_create_vhost() reads the lowercase http_proxy variable itself when no proxy is
    // given, even for wss:// and ignoring NO_PROXY; the proxy decision is ours (Go's rules,
    // proxy_config.h), so hide it for the call. Single-threaded by design (one loop).
    const char* env = getenv("http_proxy");
    std::optional<std::string> saved = env ? std::optional<std::string>(env) : std::nullopt;
    if (saved) unsetenv("http_proxy");
    vhost_ = lws_create_vhost(loop_.lws(), &vinfo);
    if (saved) setenv("http_proxy", saved->c_str(), 1);
  }
  if (vhost_ && t.proxy && !t.proxy->userinfo.empty()) {
    // lws turns "user:pass@host:port" into its Proxy-Authorization: Basic header.
    std::string spec = t.proxy->userinfo + "@" + proxy_host + ":" + std::to_string(t.proxy->port);
    lws_set_proxy(vhost_, spec.c_str());
  }
  if (!vhost_) {
    WsConnectFailure f;
    f.error = MakeError(ErrorCode::kInternal, "libwebsockets could not create a client vhost");
    ReportFailure(std::move(f));
    return;
  }

  lws_client_connect_info ci;
  std::memset(&ci, 0, sizeof ci);
  ci.context = loop_.lws();
  ci.vhost = vhost_;
  ci.address = t.server.host.c_str();
  ci.port = t.server.port;
  ci.path = options_.path_and_query.empty() ? "/" : options_.path_and_query.c_str();
  ci.host = host_header_.c_str();
  ci.origin = nullptr;
  ci.protocol = joined_protocols_.empty() ? nullptr : joined_protocols_.c_str();
  ci.local_protocol_name = kProtocolName;  // bind to our callback whatever the server picks
  ci.ietf_version_or_minus_one = -1;
  ci.userdata = this;
  ci.pwsi = &wsi_;
  ci.alpn = "http/1.1";  // an upgrade over h2 is impossible: never offer it
  if (tls) {
    ci.ssl_connection = LCCSCF_USE_SSL;
    if (t.tls.insecure)
      ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                           LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
  }
  // lws has its own, longer connect timeouts; the dial deadline is the RestConfig's.
  dial_timer_ = loop_.AddTimer(t.timeout, [this] {
    dial_timer_ = 0;
    if (state_ != State::kConnecting) return;
    WsConnectFailure f;
    f.dial = DialFailure::kTimeout;
    f.error = MakeError(ErrorCode::kTimeout,
                        "timed out after " + std::to_string(options_.target.timeout.count()) +
                            " ms connecting to the server " + options_.target.server.Authority());
    capture_.reset();
    if (wsi_) {
      lws_set_wsi_user(wsi_, nullptr);
      lws_set_timeout(wsi_, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
      wsi_ = nullptr;
    }
    ReportFailure(std::move(f));
  });
  auto alive = alive_;
  lws* w = lws_client_connect_via_info(&ci);
  if (!*alive) return;
  if (!w && state_ == State::kConnecting) {
    WsConnectFailure f;
    f.dial = DialFailure::kTcp;
    // lws gives no reason when it fails synchronously; a failed lookup is the usual one.
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const std::string& lookup = t.proxy ? t.proxy->host : t.server.host;
    int rc = getaddrinfo(lookup.c_str(), nullptr, &hints, &res);
    if (res) freeaddrinfo(res);
    if (rc != 0) {
      f.dial = t.proxy ? DialFailure::kProxy : DialFailure::kDns;
      lost_reason_ = "DNS lookup of " + lookup + " failed: " + gai_strerror(rc);
    }
    f.error = MakeError(ErrorCode::kUnavailable,
                        "unable to connect to the server " + t.server.Authority() +
                            (lost_reason_.empty() ? "" : ": " + lost_reason_));
    ReportFailure(std::move(f));
  }
}

void WsClient::ReportFailure(WsConnectFailure f) {
  if (state_ == State::kClosed) return;
  if (dial_timer_) {
    loop_.CancelTimer(dial_timer_);
    dial_timer_ = 0;
  }
  state_ = State::kClosed;
  Log(3, f.error.message);
  if (cb_.on_failed) cb_.on_failed(f);
}

std::string WsClient::ReissueRequest() const {
  unsigned char key[16];
  RAND_bytes(key, sizeof key);
  std::string req = "GET " + (options_.path_and_query.empty() ? "/" : options_.path_and_query) +
                    " HTTP/1.1\r\nHost: " + host_header_ +
                    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " +
                    Base64(key, sizeof key) + "\r\nSec-WebSocket-Version: 13\r\n";
  if (!joined_protocols_.empty()) req += "Sec-WebSocket-Protocol: " + joined_protocols_ + "\r\n";
  for (const auto& [k, v] : options_.headers) req += k + ": " + v + "\r\n";
  req += "\r\n";
  return req;
}

int WsClient::Callback(lws* wsi, int reason_int, void* user, void* in, size_t len) {
  auto reason = static_cast<lws_callback_reasons>(reason_int);
  auto* self = static_cast<WsClient*>(user);
  switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
      if (!self) return 0;
      auto** p = reinterpret_cast<unsigned char**>(in);
      unsigned char* end = *p + len;
      for (const auto& [k, v] : self->options_.headers) {
        std::string line = k + ": " + v + "\r\n";
        if (static_cast<size_t>(end - *p) <= line.size()) return -1;
        std::memcpy(*p, line.data(), line.size());
        *p += line.size();
      }
      return 0;
    }
    case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH: {
      // The last moment lws 4.1.6 still holds the 101's headers: ESTABLISHED comes after
      // the header table was released.
      if (!self) return 0;
      char proto[256] = {0};
      int n = lws_hdr_copy(wsi, proto, sizeof proto, WSI_TOKEN_PROTOCOL);
      self->subprotocol_ = n > 0 ? std::string(proto, static_cast<size_t>(n)) : "";
      return 0;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      return self ? self->OnEstablished(wsi) : -1;
    case LWS_CALLBACK_CLIENT_RECEIVE:
      if (self) self->OnReceive(wsi, static_cast<const char*>(in), len);
      return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
      if (self) self->last_pong_ = EventLoop::Clock::now();
      return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
      return self ? self->OnWritable(wsi) : -1;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      if (self) {
        const auto* b = static_cast<const unsigned char*>(in);
        self->peer_close_code_ = len >= 2 ? (b[0] << 8 | b[1]) : 1005;  // RFC 6455 §7.1.5
      }
      return 0;  // lws echoes the close frame
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
      if (self) self->OnConnectionError(wsi, in ? static_cast<const char*>(in) : "");
      return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
      if (self) self->OnClosed();
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

int WsClient::OnEstablished(lws* wsi) {
  const std::string chosen = subprotocol_;  // read in FILTER_PRE_ESTABLISH
  bool offered = std::find(options_.subprotocols.begin(), options_.subprotocols.end(), chosen) !=
                 options_.subprotocols.end();
  if (!options_.subprotocols.empty() && !offered) {
    // protocols.md §1: an empty or unknown subprotocol is an upgrade failure (fallback-able).
    WsConnectFailure f;
    f.bad_subprotocol = true;
    f.error = MakeError(
        ErrorCode::kUpgradeRejected,
        "the server " + options_.target.server.Authority() +
            (chosen.empty() ? " accepted the WebSocket upgrade without choosing a subprotocol"
                            : " chose the unoffered subprotocol \"" + chosen + "\""));
    lws_set_wsi_user(wsi, nullptr);
    wsi_ = nullptr;
    ReportFailure(std::move(f));
    return -1;
  }
  state_ = State::kOpen;
  if (dial_timer_) {
    loop_.CancelTimer(dial_timer_);
    dial_timer_ = 0;
  }
  subprotocol_ = chosen;
  last_pong_ = EventLoop::Clock::now();
  SchedulePing();
  auto alive = alive_;
  if (cb_.on_open) cb_.on_open(subprotocol_);
  if (!*alive) return 0;
  if (!queue_.empty() || close_requested_) lws_callback_on_writable(wsi);
  return 0;
}

void WsClient::SchedulePing() {
  ping_timer_ = loop_.AddTimer(options_.ping_interval, [this] {
    ping_timer_ = 0;
    if (state_ != State::kOpen || !wsi_) return;
    auto silent = EventLoop::Clock::now() - last_pong_;
    if (silent > options_.pong_timeout) {
      lost_reason_ =
          "no pong from the server for " +
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(silent).count()) + " s";
      // A dead peer never acknowledges a close frame: cut the socket so lws ends it now
      // instead of waiting for the close handshake.
      shutdown(lws_get_socket_fd(wsi_), SHUT_RDWR);
      lws_callback_on_writable(wsi_);
      return;
    }
    ping_due_ = true;
    lws_callback_on_writable(wsi_);
    SchedulePing();
  });
}

int WsClient::OnWritable(lws* wsi) {
  if (ping_due_) {
    ping_due_ = false;
    unsigned char buf[LWS_PRE + 4] = {0};
    if (lws_write(wsi, buf + LWS_PRE, 0, LWS_WRITE_PING) < 0) return -1;
    if (!queue_.empty() || close_requested_) lws_callback_on_writable(wsi);
    return 0;
  }
  if (queue_.empty() && close_requested_) {
    // Close only after every queued message went out (e.g. the v5 stdin close signal).
    lws_close_reason(wsi, static_cast<lws_close_status>(close_code_),
                     reinterpret_cast<unsigned char*>(close_reason_.data()), close_reason_.size());
    we_closed_ = true;
    state_ = State::kClosing;
    return -1;
  }
  if (queue_.empty()) return 0;
  std::string& m = queue_.front();
  size_t payload = m.size() - LWS_PRE;
  // One message = one frame: lws keeps what the socket did not take and finishes it before
  // the next WRITEABLE, so a message is never split into continuation frames.
  int n = lws_write(wsi, reinterpret_cast<unsigned char*>(m.data()) + LWS_PRE, payload,
                    LWS_WRITE_BINARY);
  if (n < static_cast<int>(payload)) {
    lost_reason_ = "write to the server failed";
    return -1;
  }
  queued_bytes_ -= payload;
  queue_.pop_front();
  if (!queue_.empty() || close_requested_) lws_callback_on_writable(wsi);
  if (queue_.empty() && cb_.on_drained) cb_.on_drained();
  return 0;
}

void WsClient::OnReceive(lws* wsi, const char* data, size_t len) {
  if (state_ != State::kOpen) return;
  if (options_.byte_stream) {
    // Boundaries mean nothing: hand over lws's buffer as it is, no reassembly.
    if (cb_.on_message) cb_.on_message(std::string_view(data, len), lws_frame_is_binary(wsi) != 0);
    return;
  }
  const bool first = lws_is_first_fragment(wsi) != 0;
  if (first && lws_is_final_fragment(wsi) && len <= options_.max_message_bytes) {
    // The usual case: lws spills a whole frame at once when it fits rx_buffer_size, and
    // servers send unfragmented messages. Deliver lws's buffer itself, no reassembly copy.
    partial_.clear();
    if (cb_.on_message) cb_.on_message(std::string_view(data, len), lws_frame_is_binary(wsi) != 0);
    return;
  }
  if (first) {
    partial_.clear();
    partial_binary_ = lws_frame_is_binary(wsi) != 0;
  }
  if (partial_.size() + len > options_.max_message_bytes) {
    lost_reason_ = "message larger than " + std::to_string(options_.max_message_bytes) + " bytes";
    partial_.clear();
    Close(1009, "message too big");  // RFC 6455 §7.4.1
    return;
  }
  partial_.append(data, len);
  if (!lws_is_final_fragment(wsi)) return;
  std::string message;
  message.swap(partial_);
  if (cb_.on_message) cb_.on_message(message, partial_binary_);
}

void WsClient::OnConnectionError(lws* wsi, const char* why) {
  wsi_ = nullptr;
  if (state_ != State::kConnecting) return;
  WsConnectFailure f;
  const std::string server = options_.target.server.Authority();
  unsigned int status = lws_http_client_http_response(wsi);
  const WsTlsOutcome tls = tls_peer_ ? tls_peer_->outcome() : WsTlsOutcome{};
  if (status == 0 && tls.alpn_refused) {
    f.dial = DialFailure::kAlpnH2;
    f.error = MakeError(ErrorCode::kUpgradeRejected,
                        "the server " + server +
                            " refused ALPN http/1.1 (an HTTP/2-only front end): exec, attach and "
                            "port-forward need an HTTP/1.1 upgrade, impossible over HTTP/2");
    ReportFailure(std::move(f));
    return;
  }
  if (status == 0 && !tls.verify_error.empty()) {
    f.dial = DialFailure::kVerify;
    f.error = MakeError(ErrorCode::kUnavailable,
                        "TLS handshake with the server " + server +
                            " failed: certificate verify failed: " + tls.verify_error);
    ReportFailure(std::move(f));
    return;
  }
  if (status == 0) {
    f.dial = ClassifyLwsError(why);
    f.error =
        MakeError(f.dial == DialFailure::kTimeout ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
                  "unable to connect to the server " + server + ": " + why);
    ReportFailure(std::move(f));
    return;
  }
  if (status == 101) {
    f.bad_subprotocol = true;
    f.error = MakeError(
        ErrorCode::kUpgradeRejected,
        "the server " + server + " answered 101 without an offered subprotocol (" + why + ")");
    ReportFailure(std::move(f));
    return;
  }
  RefusedResponse r;
  r.status = static_cast<int>(status);
  r.transport = Transport::kWebSocket;
  // What lws kept of the head; the body is not reachable from here (see refusal_capture.h).
  struct Known {
    const char* name;
    lws_token_indexes token;
  };
  static const Known kKnown[] = {{"content-type", WSI_TOKEN_HTTP_CONTENT_TYPE},
                                 {"location", WSI_TOKEN_HTTP_LOCATION},
                                 {"www-authenticate", WSI_TOKEN_HTTP_WWW_AUTHENTICATE},
                                 {"content-length", WSI_TOKEN_HTTP_CONTENT_LENGTH}};
  for (const auto& k : kKnown) {
    char buf[1024];
    int n = lws_hdr_copy(wsi, buf, sizeof buf, k.token);
    if (n > 0) r.headers.emplace_back(k.name, std::string(buf, static_cast<size_t>(n)));
  }
  f.error = MakeError(
      CodeForStatus(r.status),
      "the server " + server + " refused the WebSocket upgrade: HTTP " + std::to_string(r.status));
  f.refused = r;
  if (!options_.refusal_reader) {
    ReportFailure(std::move(f));
    return;
  }
  // Re-issue the identical request on our own connection to read status, headers and body.
  auto pending = std::make_shared<WsConnectFailure>(std::move(f));
  capture_ = RefusalCapture::Start(
      loop_, options_.target, ReissueRequest(), options_.refusal_reader,
      [this, pending](Result<RefusedResponse> got) {
        if (got.ok() && got->status != 101) {
          pending->refused = std::move(*got);
          pending->refused->transport = Transport::kWebSocket;
          pending->body_captured = true;
          pending->error = MakeError(CodeForStatus(pending->refused->status),
                                     "the server " + options_.target.server.Authority() +
                                         " refused the WebSocket upgrade: HTTP " +
                                         std::to_string(pending->refused->status));
        } else if (!got.ok()) {
          Log(2, "could not capture the refusal body: " + got.error().message);
        }
        ReportFailure(std::move(*pending));
      });
}

void WsClient::OnClosed() {
  wsi_ = nullptr;
  if (ping_timer_) {
    loop_.CancelTimer(ping_timer_);
    ping_timer_ = 0;
  }
  if (state_ != State::kOpen && state_ != State::kClosing) return;
  state_ = State::kClosed;
  Status result;
  if ((we_closed_ && lost_reason_.empty()) || peer_close_code_ == 1000) {
    result = Status::Ok();
  } else {
    std::string detail;
    if (!lost_reason_.empty())
      detail = lost_reason_;
    else if (peer_close_code_ >= 0)
      detail = "close code " + std::to_string(peer_close_code_);
    else
      detail = "closed without a close frame";
    result = MakeError(ErrorCode::kUnavailable, "connection lost to the server " +
                                                    options_.target.server.Authority() + " (" +
                                                    detail + ")");
  }
  if (cb_.on_closed) cb_.on_closed(result);
}

bool WsClient::Send(std::string_view message) {
  if (state_ != State::kOpen || close_requested_ || !wsi_) return false;
  queued_bytes_ += message.size();
  // Nothing in queue_ has been handed to lws yet (OnWritable pops what it wrote), so a byte
  // stream may grow the last queued message instead of adding a frame.
  if (options_.byte_stream && !queue_.empty() &&
      queue_.back().size() - LWS_PRE + message.size() <= kMaxCoalescedBytes) {
    queue_.back().append(message);
    return true;
  }
  std::string m;
  m.reserve(LWS_PRE + std::max(message.size(), options_.byte_stream ? kMaxCoalescedBytes : 0));
  m.assign(LWS_PRE, '\0');
  m.append(message);
  queue_.push_back(std::move(m));
  lws_callback_on_writable(wsi_);
  return true;
}

void WsClient::Close(uint16_t code, std::string reason) {
  if (state_ == State::kConnecting) {
    state_ = State::kClosed;
    if (wsi_) {
      lws_set_wsi_user(wsi_, nullptr);
      lws_set_timeout(wsi_, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
      wsi_ = nullptr;
    }
    return;
  }
  if (state_ != State::kOpen || close_requested_) return;
  close_requested_ = true;
  close_code_ = code;
  close_reason_ = std::move(reason);
  if (close_reason_.size() > 123) close_reason_.resize(123);  // RFC 6455 §5.5: 125-byte body
  if (wsi_) lws_callback_on_writable(wsi_);
}

}  // namespace kproxy

namespace kproxy {
void WsClient::SetReading(bool on) {
  if (wsi_ && state_ == State::kOpen) lws_rx_flow_control(wsi_, on ? 1 : 0);
}
}  // namespace kproxy
