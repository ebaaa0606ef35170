#include "core/session/portforward_legacy_ws.h"

#include "core/base/log.h"
#include "core/session/ws_dial.h"
#include "core/transport/ws_client.h"
#include "core/websocket/channel_codec.h"
#include "core/websocket/portforward_channels.h"

namespace kproxy {

// Bound on the text the server may send on the error channel (as StreamPairClient's).
constexpr size_t kMaxErrorText = 64 * 1024;

struct LegacyWsTunnel::Conn {
  uint16_t remote = 0, local = 0;
  portforward::ForwardCallbacks cb;
  std::unique_ptr<WsClient> client;
  std::unique_ptr<ws::PortForwardChannelDecoder> decoder;
  std::string error_text;
  bool open = false;
};

LegacyWsTunnel::LegacyWsTunnel(EventLoop& loop, UpgradeTarget target)
    : loop_(loop), target_(std::move(target)) {}

LegacyWsTunnel::~LegacyWsTunnel() {
  *alive_ = false;
  for (auto& [id, c] : conns_)
    if (c->client) c->client->Close(1000);
  // The clients must outlive lws's callback frames: free them from the loop.
  for (auto& [id, c] : conns_) {
    auto* raw = c->client.release();
    if (raw) loop_.Post([raw] { delete raw; });
  }
}

portforward::RequestId LegacyWsTunnel::Open(uint16_t remote, uint16_t local,
                                            portforward::ForwardCallbacks cb) {
  portforward::RequestId id = next_id_++;
  auto c = std::make_unique<Conn>();
  c->remote = remote;
  c->local = local;
  c->cb = std::move(cb);
  c->decoder = std::make_unique<ws::PortForwardChannelDecoder>(std::vector<uint16_t>{remote});
  WsClientOptions o = WsClientOptionsFor(target_, {"v4.channel.k8s.io"});
  o.path_and_query += "?ports=" + std::to_string(remote);
  WsClient::Callbacks wcb;
  auto alive = alive_;
  wcb.on_open = [this, id, alive](const std::string&) {
    if (!*alive) return;
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    it->second->open = true;
    if (it->second->cb.on_ready) it->second->cb.on_ready();
  };
  wcb.on_failed = [this, id, alive](const WsConnectFailure& f) {
    if (!*alive) return;
    Ended(id, MakeError(f.error.code, "error upgrading connection: " + f.error.message));
  };
  wcb.on_message = [this, id, alive](std::string_view m, bool binary) {
    if (!*alive) return;
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    Conn* c = it->second.get();
    auto msg = ws::DecodeMessage(ws::ChannelProtocol::kV4, ws::ChannelRole::kClient, m, !binary);
    std::vector<ws::PortForwardEvent> events;
    Status s = msg.ok() ? (msg->kind == ws::ChannelMessage::Kind::kData
                               ? c->decoder->Feed(msg->channel, msg->payload, &events)
                               : Status::Ok())
                        : Status(msg.error());
    if (!s.ok()) {
      Ended(id, s);
      return;
    }
    for (auto& e : events) {
      if (e.is_error) {
        c->error_text.append(e.data);
        if (c->error_text.size() > kMaxErrorText) {
          Ended(id, MakeError(ErrorCode::kProtocol, "error channel sent too much"));
          return;
        }
      } else if (!e.data.empty() && c->cb.on_data) {
        c->cb.on_data(e.data);
        if (conns_.find(id) == conns_.end()) return;
      }
    }
  };
  wcb.on_closed = [this, id, alive](Status s) {
    if (*alive) Ended(id, std::move(s));
  };
  wcb.on_drained = [this, alive] {
    if (*alive && on_drained_) on_drained_();
  };
  Conn* raw = c.get();
  conns_.emplace(id, std::move(c));
  raw->client = WsClient::Connect(loop_, std::move(o), std::move(wcb));
  return id;
}

void LegacyWsTunnel::Ended(portforward::RequestId id, Status s) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  std::unique_ptr<Conn> c = std::move(it->second);
  conns_.erase(it);
  std::string ports = std::to_string(c->local) + " -> " + std::to_string(c->remote);
  if (auto* raw = c->client.release()) loop_.Post([raw] { delete raw; });
  if (!c->error_text.empty()) {
    if (c->cb.on_error)
      c->cb.on_error(MakeError(ErrorCode::kServer,
                               "an error occurred forwarding " + ports + ": " + c->error_text));
  } else if (s.ok()) {
    if (c->cb.on_remote_close) c->cb.on_remote_close();
  } else if (c->cb.on_error) {
    c->cb.on_error(MakeError(s.error().code,
                             "an error occurred forwarding " + ports + ": " + s.error().message));
  }
}

bool LegacyWsTunnel::Write(portforward::RequestId id, std::string_view bytes) {
  auto it = conns_.find(id);
  if (it == conns_.end() || !it->second->open) return false;
  for (auto& m : ws::EncodeData(ws::ChannelProtocol::kV4, ws::PortForwardDataChannel(0), bytes))
    if (!it->second->client->Send(m.data)) return false;
  return true;
}

bool LegacyWsTunnel::CloseWrite(portforward::RequestId) { return false; }

void LegacyWsTunnel::Close(portforward::RequestId id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  std::unique_ptr<Conn> c = std::move(it->second);
  conns_.erase(it);
  if (c->client) c->client->Close(1000);
  if (auto* raw = c->client.release()) {
    // Give the close frame a moment to leave before the client goes away.
    loop_.AddTimer(std::chrono::milliseconds(200), [raw] { delete raw; });
  }
}

size_t LegacyWsTunnel::BufferedBytes() const {
  size_t n = 0;
  for (const auto& [id, c] : conns_)
    if (c->client) n += c->client->BufferedBytes();
  return n;
}

void LegacyWsTunnel::SetReading(bool on) {
  reading_ = on;
  for (auto& [id, c] : conns_)
    if (c->client && c->open) c->client->SetReading(on);
}

}  // namespace kproxy
