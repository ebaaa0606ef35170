// The forwarder: every accepted local TCP connection of a port-forward session, moved to and
// from its remote connection on one event loop. Memory per connection is bounded both ways:
// local reads stop while the tunnel has more than `tunnel_high_water` bytes queued (resumed by
// OnTunnelDrained), and the tunnel stops reading while any local socket has more than
// `local_high_water` bytes waiting to be written to it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/base/result.h"
#include "core/portforward/stream_pairing_client.h"
#include "core/transport/event_loop.h"

namespace kproxy::portforward {

// What the forwarder needs from the remote side (a SPDY session over the WebSocket tunnel or
// plain SPDY, or one legacy WebSocket per connection).
class Tunnel {
 public:
  virtual ~Tunnel() = default;
  // Opens the remote end of one local connection; callbacks as StreamPairClient's.
  virtual RequestId Open(uint16_t remote_port, uint16_t local_port, ForwardCallbacks cb) = 0;
  virtual bool Write(RequestId id, std::string_view bytes) = 0;
  virtual bool CloseWrite(RequestId id) = 0;
  virtual void Close(RequestId id) = 0;
  // Pushes queued bytes to the socket (call after a batch of calls above).
  virtual void Flush() = 0;
  // Bytes queued toward the peer and not yet written: the local-read back-pressure signal.
  virtual size_t BufferedBytes() const = 0;
  // Stops/resumes reading from the peer (remote-to-local back-pressure).
  virtual void SetReading(bool on) = 0;
};

struct ForwarderOptions {
  size_t tunnel_high_water = 1 << 20;
  size_t local_high_water = 256 * 1024;
  size_t read_chunk = 64 * 1024;
  // Lines for stdout ("Handling connection for 8888") and stderr (per-connection errors).
  std::function<void(const std::string&)> out_line;
  std::function<void(const std::string&)> err_line;
};

class Forwarder {
 public:
  Forwarder(EventLoop& loop, ForwarderOptions options);
  ~Forwarder();  // closes every local socket
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Takes ownership of an accepted, non-blocking socket for local_port → remote_port. Without
  // a tunnel it waits (not read) until SetTunnel gives one.
  void Accept(int fd, uint16_t local_port, uint16_t remote_port);
  // Installs the tunnel (or nullptr while reconnecting); waiting connections are opened.
  void SetTunnel(Tunnel* tunnel);
  // The tunnel dropped: every connection using it is closed (their streams are gone).
  void DropTunnelConnections(const std::string& why);
  // The tunnel's queue emptied: paused local reads resume.
  void OnTunnelDrained();

  size_t active() const { return conns_.size(); }
  uint64_t bytes_to_remote() const { return to_remote_; }
  uint64_t bytes_to_local() const { return to_local_; }

 private:
  struct Conn;
  void OpenRemote(Conn* c);
  void OnIo(uint64_t key, IoEvents ev);
  void ReadLocal(Conn* c);
  void WriteLocal(Conn* c);
  void OnRemoteData(uint64_t key, std::string_view bytes);
  void OnRemoteClose(uint64_t key);
  void OnRemoteError(uint64_t key, const Error& e);
  void UpdateInterest(Conn* c);
  void UpdateTunnelReading();
  void Finish(uint64_t key, bool close_remote);
  Conn* Find(uint64_t key);
  bool TunnelCongested() const;

  EventLoop& loop_;
  ForwarderOptions o_;
  Tunnel* tunnel_ = nullptr;
  uint64_t next_key_ = 1;
  std::map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::unique_ptr<char[]> read_buf_;  // read_chunk bytes shared by all local reads
  size_t congested_locals_ = 0;
  bool tunnel_reading_ = true;
  uint64_t to_remote_ = 0, to_local_ = 0;
};

}  // namespace kproxy::portforward
