// A client byte connection on the event loop, built in layers (curl's cfilters, style.md §3):
// TCP → optional HTTP CONNECT proxy tunnel → optional TLS (OpenSSL, ALPN "http/1.1" only).
// Carries SPDY sessions after our own HTTP/1.1 upgrade and the re-issued request that
// captures a refused WebSocket upgrade. DNS resolution is a blocking getaddrinfo before the
// first connect (as lws does); everything after is non-blocking.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"
#include "core/kubeconfig/rest_config.h"
#include "core/transport/event_loop.h"
#include "core/transport/proxy_config.h"
#include "core/transport/tls_context.h"

namespace kproxy {

// Why a dial failed, for callers that decide on a fallback (kubectl retries SPDY after an
// HTTPS-proxy dial error but never after DNS/TCP/TLS errors).
enum class DialFailure { kNone, kDns, kTcp, kProxy, kTls, kVerify, kAlpnH2, kTimeout, kLost };

struct DialTarget {
  Endpoint server;                   // scheme https → TLS; http → plain TCP
  std::optional<ProxyChoice> proxy;  // CONNECT through this proxy first
  TlsSettings tls;
  std::chrono::milliseconds timeout{30000};  // whole dial: DNS + TCP + CONNECT + TLS
};

// Maps kubeconfig+flags to a dial target: server URL, TLS material, proxy choice (proxy-url or
// environment, read through `getenv`), timeout. Consumes `config`; returns kConfig errors.
Result<DialTarget> DialTargetFromRestConfig(const RestConfig& config, const GetEnvFn& getenv);

class TlsConnection {
 public:
  struct Callbacks {
    std::function<void(Status)> on_connected;       // once: Ok, or the dial error
    std::function<void(std::string_view)> on_data;  // bytes from the peer
    std::function<void(Status)> on_closed;          // after connect: Ok = clean EOF, else lost
    std::function<void()> on_drained;               // the write queue became empty
  };

  // Starts dialing; callbacks run on `loop`. The object may be destroyed from any callback.
  static std::unique_ptr<TlsConnection> Dial(EventLoop& loop, DialTarget target,
                                             Callbacks callbacks);
  ~TlsConnection();
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  // Queues bytes (allowed while still dialing). False once closed.
  bool Write(std::string_view bytes);
  // The same without a copy when nothing is pending: takes `bytes`' contents and leaves it
  // empty (possibly holding a spare buffer's capacity for the caller to reuse).
  bool WriteSwap(std::string& bytes);
  size_t BufferedBytes() const { return out_.size() - out_off_ + CipherPending(); }
  // Stops/restarts reading from the peer (back-pressure toward a blocked stdout).
  void SetReading(bool on);
  // Closes now (TLS close_notify best effort); no further callbacks.
  void Close();

  bool connected() const { return state_ == State::kOpen; }
  DialFailure failure() const { return failure_; }
  const std::string& alpn() const { return alpn_; }  // negotiated protocol, "" if none

 private:
  enum class State { kConnecting, kProxy, kTls, kOpen, kClosed };
  TlsConnection(EventLoop& loop, DialTarget target, Callbacks cb);
  void Start();
  void ConnectNext();
  void OnIo(IoEvents ev);
  void OnConnectDone();
  void StartProxy();
  void StartTls();
  void DoHandshake();
  void DoRead();
  void DoWrite();
  // One SSL_write of the next ≤ 64 KiB of out_. kBlocked: OpenSSL wants the socket writable,
  // or readable first (want_read_for_write_ set); kLost: already reported through Lost().
  enum class SslStep { kProgress, kBlocked, kLost };
  SslStep SslWriteSome();
  // Sends batched ciphertext until EAGAIN; false when the connection was lost (and torn down).
  bool SendCipher();
  size_t CipherPending() const;
  void UpdateInterest();
  void FailDial(DialFailure why, ErrorCode code, std::string message);
  void Lost(std::string message);
  void Teardown();
  std::string ServerName() const;

  EventLoop& loop_;
  DialTarget target_;
  Callbacks cb_;
  State state_ = State::kConnecting;
  DialFailure failure_ = DialFailure::kNone;
  int fd_ = -1;
  EventLoop::WatchId watch_ = 0;
  EventLoop::TimerId timer_ = 0;
  std::vector<std::vector<unsigned char>> addrs_;  // sockaddr storage per candidate
  size_t next_addr_ = 0;
  std::string last_connect_error_;
  std::string proxy_out_;
  size_t proxy_off_ = 0;
  std::string proxy_in_;
  struct Tls;
  std::unique_ptr<Tls> tls_;
  bool want_read_for_write_ = false;
  bool want_write_for_read_ = false;
  bool reading_ = true;
  // The interest last set in State::kOpen (other states set theirs directly).
  bool open_interest_known_ = false;
  bool open_read_ = false, open_write_ = false;
  std::string out_;
  size_t out_off_ = 0;
  std::string alpn_;
  std::unique_ptr<char[]> read_buf_;  // DoRead's gathering buffer, allocated once
  std::shared_ptr<bool> alive_;
};

}  // namespace kproxy
