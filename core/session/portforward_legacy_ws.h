// Legacy WebSocket port-forward (v4.channel.k8s.io with ?ports=P, protocols.md §6): one
// WebSocket per local connection, data on channel 0 and errors on channel 1, each prefixed by
// the port (2 bytes little-endian) from the server. No half-close. kproxy's third option when
// neither the tunnel nor SPDY upgrade works.
#pragma once

#include <map>
#include <memory>

#include "core/portforward/forwarder.h"
#include "core/session/stream_transport.h"

namespace kproxy {

class LegacyWsTunnel : public portforward::Tunnel {
 public:
  // `target.path_and_query` is the portforward path without a query.
  LegacyWsTunnel(EventLoop& loop, UpgradeTarget target);
  ~LegacyWsTunnel() override;

  portforward::RequestId Open(uint16_t remote_port, uint16_t local_port,
                              portforward::ForwardCallbacks cb) override;
  bool Write(portforward::RequestId id, std::string_view bytes) override;
  bool CloseWrite(portforward::RequestId id) override;  // false: the protocol cannot
  void Close(portforward::RequestId id) override;
  void Flush() override {}  // messages go to their socket at once
  size_t BufferedBytes() const override;
  void SetReading(bool on) override;
  // Called when any connection's queue drained (the forwarder resumes local reads).
  void SetOnDrained(std::function<void()> f) { on_drained_ = std::move(f); }

 private:
  struct Conn;
  void Ended(portforward::RequestId id, Status s);

  EventLoop& loop_;
  UpgradeTarget target_;
  portforward::RequestId next_id_ = 0;
  std::map<portforward::RequestId, std::unique_ptr<Conn>> conns_;
  std::function<void()> on_drained_;
  bool reading_ = true;
  // Clients closing after the tunnel died may still call back: the lambdas check this.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace kproxy
