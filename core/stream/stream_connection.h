// The stream-connection interface every stream protocol is written against:
// "open a stream of type T, write, half-close, read, reset".
//
// SPDY/3.1 sessions (core/spdy) and Kubernetes WebSocket channel connections (core/websocket)
// both implement it, so remotecommand v1..v5 and the port-forward pairing (core/remotecommand,
// core/portforward) never see the transport. Implementations do no I/O themselves: they turn
// calls into bytes queued for the owner of the socket, and bytes received into handler calls.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/result.h"

namespace kproxy {

// Header name/value pairs sent when a stream is opened. Names are lower-case
// ("streamtype", "port", "requestid"). Channel transports use only "streamtype".
struct StreamHeaders {
  std::vector<std::pair<std::string, std::string>> pairs;

  // The first value of `name`, or "" when absent.
  std::string Get(std::string_view name) const {
    for (const auto& [k, v] : pairs)
      if (k == name) return v;
    return "";
  }
  void Set(std::string name, std::string value) {
    for (auto& [k, v] : pairs)
      if (k == name) {
        v = std::move(value);
        return;
      }
    pairs.emplace_back(std::move(name), std::move(value));
  }
};

// Well-known values of the "streamtype" header (k8s.io/api/core/v1 constants).
namespace streamtype {
inline constexpr const char* kError = "error";
inline constexpr const char* kStdin = "stdin";
inline constexpr const char* kStdout = "stdout";
inline constexpr const char* kStderr = "stderr";
inline constexpr const char* kResize = "resize";
inline constexpr const char* kData = "data";  // port-forward
}  // namespace streamtype

using StreamId = uint32_t;

// Receives what the peer sends on one stream. Called from the connection's owner thread.
class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  virtual void OnData(std::string_view bytes) = 0;
  // The peer will send no more on this stream (SPDY FIN, WebSocket close of the connection).
  virtual void OnRemoteClose() = 0;
  // The stream was reset (RST_STREAM, connection lost); no further calls follow.
  virtual void OnReset(std::string_view reason) = 0;
};

class StreamConnection {
 public:
  virtual ~StreamConnection() = default;

  // Client role: asks the peer to open a stream. `on_reply` runs once the peer accepted it
  // (SPDY SYN_REPLY; immediately for channel transports) or refused it. `handler` must
  // outlive the stream.
  virtual StreamId OpenStream(const StreamHeaders& headers, StreamHandler* handler,
                              std::function<void(Status)> on_reply) = 0;

  // Server role: called for each stream the peer opens; return the handler for it, or
  // nullptr to reset the stream.
  using AcceptFn = std::function<StreamHandler*(StreamId, const StreamHeaders&)>;
  virtual void SetAcceptHandler(AcceptFn accept) = 0;

  // Queues bytes on a stream. Never blocks and never waits for a flow-control window
  // (spdystream never grants one). Returns false when the stream is closed for writing.
  virtual bool Write(StreamId id, std::string_view bytes) = 0;
  // Half-close: SPDY DATA+FIN, WebSocket v5 close signal. False when unsupported (v1-v4 WS).
  virtual bool CloseWrite(StreamId id) = 0;
  virtual void Reset(StreamId id) = 0;
  virtual bool SupportsHalfClose() const = 0;

  // Bytes queued for the socket but not yet taken by the owner: the back-pressure signal.
  virtual size_t BufferedBytes() const = 0;
};

}  // namespace kproxy
