// WebSocket client on libwebsockets 4.1.6, inside the process's event loop (lws_context of
// EventLoop). One object = one connection: connect, messages in and out, keepalive, close.
//
// Wire rules it enforces (protocols.md §1-2): ALPN "http/1.1" only; the offered subprotocols
// as ONE comma-joined Sec-WebSocket-Protocol line; no permessage-deflate; extra headers
// (Authorization, Impersonate-*, User-Agent) appended to the handshake; every outgoing message
// is one unfragmented binary frame; incoming fragments are reassembled; ping every N s and a
// dead-peer deadline; close 1000 = normal end, anything else = "connection lost".
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/result.h"
#include "core/diagnose/refusal.h"
#include "core/transport/event_loop.h"
#include "core/transport/refusal_capture.h"
#include "core/transport/tls_connection.h"
#include "core/transport/ws_client_tls.h"

struct lws;
struct lws_vhost;
typedef struct ssl_ctx_st SSL_CTX;

namespace kproxy {

struct WsClientOptions {
  DialTarget target;           // server, proxy, TLS material (ALPN forced to http/1.1)
  std::string path_and_query;  // "/api/v1/namespaces/ns/pods/p/exec?command=sh&stdin=true"
  std::vector<std::string> subprotocols;                     // in preference order
  std::vector<std::pair<std::string, std::string>> headers;  // extra handshake headers
  std::chrono::milliseconds ping_interval{5000};
  std::chrono::milliseconds pong_timeout{60000};  // no pong for this long = dead peer
  size_t max_message_bytes = 16 * 1024 * 1024;    // reassembly bound (close 1009 beyond)
  // A byte stream carried in binary messages whose boundaries mean nothing (the port-forward
  // tunnel): every chunk lws hands over is delivered as it comes, without reassembly, and a
  // Send() while earlier messages still wait for the socket is appended to the last one (up
  // to kMaxCoalescedBytes), so a burst of small writes costs one frame and one WRITEABLE.
  bool byte_stream = false;
  // Parser for the re-issued request of a refused upgrade; null = no body capture (status
  // and the headers lws kept are still reported).
  ResponseReaderFactory refusal_reader = HttpResponseReaderFactory();
};

// Why a connection attempt did not produce an open WebSocket.
struct WsConnectFailure {
  Error error;
  DialFailure dial = DialFailure::kNone;  // kNone when the handshake itself was refused
  // Set when the server answered the upgrade with a non-101 status.
  std::optional<RefusedResponse> refused;
  bool body_captured = false;  // refused->body is the real body (re-issued request)
  // A 101 arrived but with no or an unoffered subprotocol: an upgrade failure (fallback-able).
  bool bad_subprotocol = false;
};

class WsClient {
 public:
  // Largest message a byte_stream client builds by appending queued sends.
  static constexpr size_t kMaxCoalescedBytes = 64 * 1024;

  struct Callbacks {
    std::function<void(const std::string& subprotocol)> on_open;
    std::function<void(const WsConnectFailure&)> on_failed;  // instead of on_open
    std::function<void(std::string_view message, bool binary)> on_message;
    // After on_open: Ok for a close with code 1000; kUnavailable "connection lost" otherwise.
    std::function<void(Status)> on_closed;
    std::function<void()> on_drained;  // the write queue became empty
  };

  // Starts connecting on `loop`. Callbacks run on the loop; the client may be destroyed
  // from any of them.
  static std::unique_ptr<WsClient> Connect(EventLoop& loop, WsClientOptions options,
                                           Callbacks callbacks);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Queues one message, sent as a single binary frame. False when not open.
  bool Send(std::string_view message);
  // Bytes queued and not yet handed to the socket: the back-pressure signal.
  size_t BufferedBytes() const { return queued_bytes_; }
  // Stops/resumes reading from the peer (back-pressure toward a blocked local stdout).
  void SetReading(bool on);
  // Starts the closing handshake with `code`; on_closed reports Ok afterwards.
  void Close(uint16_t code = 1000, std::string reason = "");

  bool open() const { return state_ == State::kOpen; }
  const std::string& subprotocol() const { return subprotocol_; }
  int peer_close_code() const { return peer_close_code_; }  // -1 until a close frame came

  // libwebsockets protocol callback (internal).
  static int Callback(lws* wsi, int reason, void* user, void* in, size_t len);

 private:
  enum class State { kConnecting, kOpen, kClosing, kClosed };
  WsClient(EventLoop& loop, WsClientOptions options, Callbacks callbacks);
  void Start();
  int OnEstablished(lws* wsi);
  int OnWritable(lws* wsi);
  void OnReceive(lws* wsi, const char* data, size_t len);
  void OnConnectionError(lws* wsi, const char* why);
  void OnClosed();
  void SchedulePing();
  void ReportFailure(WsConnectFailure f);
  std::string ReissueRequest() const;

  EventLoop& loop_;
  WsClientOptions options_;
  Callbacks cb_;
  State state_ = State::kConnecting;
  lws_vhost* vhost_ = nullptr;
  SSL_CTX* ssl_ctx_ = nullptr;
  lws* wsi_ = nullptr;
  std::string vhost_name_;
  std::string host_header_;
  std::string subprotocol_;
  std::string joined_protocols_;
  std::deque<std::string> queue_;  // each with LWS_PRE bytes of headroom
  size_t queued_bytes_ = 0;
  std::string partial_;
  bool partial_binary_ = true;
  bool ping_due_ = false;
  EventLoop::TimerId ping_timer_ = 0;
  EventLoop::TimerId dial_timer_ = 0;
  EventLoop::Clock::time_point last_pong_;
  bool close_requested_ = false;
  uint16_t close_code_ = 1000;
  std::string close_reason_;
  int peer_close_code_ = -1;
  bool we_closed_ = false;
  std::string lost_reason_;
  std::unique_ptr<RefusalCapture> capture_;
  std::unique_ptr<WsTlsPeer> tls_peer_;  // per-connection TLS state (the SSL_CTX is shared)
  std::shared_ptr<bool> alive_;
};

}  // namespace kproxy
