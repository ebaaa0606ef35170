// Port-forward sessions, the kubelet's side: each forwarded connection dials the local port the
// fixture maps for the container port and copies bytes both ways.
//  - portforward.k8s.io over SPDY (directly or tunnelled in WebSocket): error and data streams
//    paired by requestid, error text (kubelet wording) on the error stream when the dial fails,
//    FIN = half-close (the container's EOF also FINs the error stream: the kubelet's forward
//    is over), RST = abort, incomplete pairs expire.
//  - legacy WebSocket (v4.channel.k8s.io, ?ports=): channel 2i data and 2i+1 error per port,
//    each starting with the port as 2 bytes little-endian.
// Bounded memory: reading from the client pauses while a local socket is congested, and a
// socket is read only as fast as the client connection takes the bytes.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tests/sim/server/conn.h"
#include "tests/sim/streaming/server_transport.h"

namespace kproxy::sim::streaming {

struct PortForwardParams {
  // Container port → local port to dial; nullopt: nothing listens (the dial is refused).
  std::function<std::optional<int>(uint16_t)> local_port;
  std::string pod_name;
  std::string pod_uid;
  std::chrono::milliseconds stream_timeout{30000};  // incomplete error/data pair expiry
  std::chrono::milliseconds dial_timeout{5000};
  size_t max_pending = 1 << 20;  // bytes waiting for one local socket before reads pause
  size_t max_streams = 4096;     // open streams at once; more are reset (flood guard)
};

struct PortForwardStats {
  size_t pairs = 0;          // complete error/data pairs
  size_t dial_failures = 0;  // pairs answered with error text
  uint64_t bytes_to_pod = 0, bytes_from_pod = 0;
  std::string end_reason;
};

// The kubelet's text on the error stream when dialing `port` failed.
std::string DialErrorText(const std::string& pod_name, const std::string& pod_uid, uint16_t port,
                          const std::string& cause);

// Runs a portforward.k8s.io session over `transport` (SpdyTransport or WsTunnelTransport) on
// `conn` until the client goes away. `already_read`: the first upgraded bytes.
PortForwardStats RunSpdyPortForward(Conn& conn, ServerTransport& transport,
                                    const std::string& already_read, PortForwardParams params);

// Runs a legacy WebSocket port-forward for `ports` on `conn`.
PortForwardStats RunLegacyWsPortForward(Conn& conn, WsMessageTransport& transport,
                                        const std::string& already_read,
                                        const std::vector<uint16_t>& ports,
                                        PortForwardParams params);

// Connects to 127.0.0.1:port within `timeout`; returns a non-blocking fd or -1 with `error`
// holding Go-style text ("dial tcp4 127.0.0.1:P: connect: connection refused").
int DialLocal(int port, std::chrono::milliseconds timeout, std::string* error);

}  // namespace kproxy::sim::streaming
