// An upgraded streaming connection of either kind (WebSocket channels or a SPDY/3.1 session)
// behind one interface, and the dialers that produce one: DialWebSocket, DialSpdy. A failed
// attempt is reported with the stage it failed at and the classified refusal, so the caller
// can apply the fallback predicate (core/negotiate/fallback_policy.h).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/base/result.h"
#include "core/diagnose/refusal.h"
#include "core/negotiate/fallback_policy.h"
#include "core/stream/stream_connection.h"
#include "core/transport/event_loop.h"
#include "core/transport/tls_connection.h"

namespace kproxy {

// Where and how to ask for the upgrade.
struct UpgradeTarget {
  DialTarget dial;
  std::string path_and_query;  // "/api/v1/namespaces/ns/pods/p/exec?command=sh&stdin=true"
  std::string user_agent;      // contains "kubernetes/"
  std::vector<std::pair<std::string, std::string>> headers;  // Authorization, Impersonate-*
  std::chrono::milliseconds keepalive{5000};
  std::chrono::milliseconds dead_peer{60000};
  // Optional, SPDY only: hands over an idle kept-alive connection already open to `dial`'s
  // exact target (the lookups' one, core/rest/loop_http_client TakeIdleConnection), rebound to
  // the given callbacks; null = none, dial. Saves the second TCP+TLS handshake.
  std::function<std::unique_ptr<TlsConnection>(const DialTarget&, TlsConnection::Callbacks)>
      take_idle;
};

class StreamTransport {
 public:
  struct Callbacks {
    // The connection ended after it was ready: Ok for a normal end (close 1000 / GOAWAY + EOF),
    // kUnavailable "connection lost" otherwise.
    std::function<void(Status)> on_closed;
    // Everything queued toward the peer went to the socket (stdin back-pressure may resume).
    std::function<void()> on_drained;
  };
  virtual ~StreamTransport() = default;

  virtual StreamConnection* connection() = 0;
  virtual StreamProtocol kind() const = 0;
  // The negotiated subprotocol or X-Stream-Protocol-Version ("v5.channel.k8s.io", ...).
  virtual const std::string& negotiated() const = 0;
  // Installs callbacks (once, right after the dial reported success).
  virtual void SetCallbacks(Callbacks callbacks) = 0;
  // Sends whatever the StreamConnection queued. Call after every call into connection().
  virtual void Flush() = 0;
  // Bytes queued toward the peer, in the codec and the socket: the back-pressure signal.
  virtual size_t BufferedBytes() const = 0;
  // Stops/resumes reading from the peer while local output is congested.
  virtual void SetReading(bool on) = 0;
  // Ends the connection (WebSocket close 1000 / SPDY GOAWAY, then the socket).
  virtual void Close() = 0;
};

struct AttemptFailure {
  FailureStage stage = FailureStage::kDial;
  Error error;
  Diagnosis diagnosis;  // for kHandshake: the classified refusal
};

using DialDone = std::function<void(Result<std::unique_ptr<StreamTransport>>, AttemptFailure)>;

// A dial in progress; destroying it cancels the attempt.
class PendingDial {
 public:
  virtual ~PendingDial() = default;
};

// WebSocket: offers `subprotocols` in one Sec-WebSocket-Protocol line. `done` runs once on the
// loop, with the transport or the failure.
std::unique_ptr<PendingDial> DialWebSocket(EventLoop& loop, const UpgradeTarget& target,
                                           std::vector<std::string> subprotocols,
                                           const RefusalContext& context, DialDone done);

// SPDY/3.1: offers `versions` as X-Stream-Protocol-Version lines over our own TLS connection.
std::unique_ptr<PendingDial> DialSpdy(EventLoop& loop, const UpgradeTarget& target,
                                      std::vector<std::string> versions,
                                      const RefusalContext& context, DialDone done);

// Port-forward over the WebSocket tunnel (kubectl >= 1.31): offers "SPDY/3.1+portforward.k8s.io"
// and runs a client SPDY session as a byte stream inside binary messages (protocols.md §6).
// negotiated() is the inner protocol, "portforward.k8s.io"; kind() is kWebSocket.
std::unique_ptr<PendingDial> DialWebSocketTunnel(EventLoop& loop, const UpgradeTarget& target,
                                                 const RefusalContext& context, DialDone done);

}  // namespace kproxy
