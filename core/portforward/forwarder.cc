#include "core/portforward/forwarder.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace kproxy::portforward {
namespace {

constexpr size_t kLocalWriteBatch = 256 * 1024;

}  // namespace

struct Forwarder::Conn {
  uint64_t key = 0;
  int fd = -1;
  uint16_t local_port = 0, remote_port = 0;
  EventLoop::WatchId watch = 0;
  bool opened = false;  // Open() issued on the current tunnel
  bool ready = false;   // data stream open
  RequestId id = 0;
  std::string out;  // remote → local bytes not yet written
  size_t out_off = 0;
  bool local_eof = false;
  bool remote_eof = false;
  bool congested = false;  // counted in congested_locals_
  bool want_read = false, want_write = false;
  size_t pending() const { return out.size() - out_off; }
};

Forwarder::Forwarder(EventLoop& loop, ForwarderOptions options)
    : loop_(loop), o_(std::move(options)) {}

Forwarder::~Forwarder() {
  for (auto& [key, c] : conns_) {
    if (c->watch) loop_.Unwatch(c->watch);
    if (tunnel_ && c->opened) tunnel_->Close(c->id);
    ::close(c->fd);
  }
  if (tunnel_) tunnel_->Flush();
}

Forwarder::Conn* Forwarder::Find(uint64_t key) {
  auto it = conns_.find(key);
  return it == conns_.end() ? nullptr : it->second.get();
}

bool Forwarder::TunnelCongested() const {
  return !tunnel_ || tunnel_->BufferedBytes() >= o_.tunnel_high_water;
}

void Forwarder::Accept(int fd, uint16_t local_port, uint16_t remote_port) {
  auto c = std::make_unique<Conn>();
  c->key = next_key_++;
  c->fd = fd;
  c->local_port = local_port;
  c->remote_port = remote_port;
  uint64_t key = c->key;
  Conn* raw = c.get();
  conns_.emplace(key, std::move(c));
  if (o_.out_line) o_.out_line("Handling connection for " + std::to_string(local_port));
  if (tunnel_) OpenRemote(raw);
}

void Forwarder::SetTunnel(Tunnel* tunnel) {
  tunnel_ = tunnel;
  tunnel_reading_ = true;
  if (!tunnel_) return;
  std::vector<uint64_t> waiting;
  for (auto& [key, c] : conns_)
    if (!c->opened) waiting.push_back(key);
  for (uint64_t key : waiting)
    if (Conn* c = Find(key)) OpenRemote(c);
  UpdateTunnelReading();
}

void Forwarder::OpenRemote(Conn* c) {
  c->opened = true;
  uint64_t key = c->key;
  ForwardCallbacks cb;
  cb.on_ready = [this, key] {
    if (Conn* c = Find(key)) {
      c->ready = true;
      UpdateInterest(c);
    }
  };
  cb.on_data = [this, key](std::string_view b) { OnRemoteData(key, b); };
  cb.on_remote_close = [this, key] { OnRemoteClose(key); };
  cb.on_error = [this, key](Error e) { OnRemoteError(key, e); };
  RequestId id = tunnel_->Open(c->remote_port, c->local_port, std::move(cb));
  if (Conn* again = Find(key)) again->id = id;
  tunnel_->Flush();
}

void Forwarder::UpdateInterest(Conn* c) {
  bool read = c->ready && !c->local_eof && !c->remote_eof && !TunnelCongested();
  bool write = c->pending() > 0;
  if (read == c->want_read && write == c->want_write && (c->watch || (!read && !write))) return;
  c->want_read = read;
  c->want_write = write;
  if (!c->watch) {
    uint64_t key = c->key;
    c->watch = loop_.Watch(c->fd, read, write, [this, key](IoEvents ev) { OnIo(key, ev); });
  } else {
    loop_.SetInterest(c->watch, read, write);
  }
}

void Forwarder::OnIo(uint64_t key, IoEvents ev) {
  Conn* c = Find(key);
  if (!c) return;
  if (ev.writable || (ev.error && c->pending() > 0)) {
    WriteLocal(c);
    c = Find(key);
    if (!c) return;
  }
  if (ev.readable || ev.hangup || ev.error) ReadLocal(c);
}

void Forwarder::ReadLocal(Conn* c) {
  if (!c->ready || c->local_eof || !tunnel_) return;
  uint64_t key = c->key;
  if (!read_buf_) read_buf_ = std::make_unique<char[]>(o_.read_chunk);
  char* buf = read_buf_.get();
  // Read while the tunnel has room; a bounded number of chunks per wake-up keeps the loop fair.
  // The frames of one wake-up are flushed together (one write to the connection).
  bool unflushed = false;
  for (int i = 0; i < 4 && !TunnelCongested(); ++i) {
    ssize_t n = ::recv(c->fd, buf, o_.read_chunk, 0);
    if (n > 0) {
      to_remote_ += static_cast<uint64_t>(n);
      tunnel_->Write(c->id, std::string_view(buf, static_cast<size_t>(n)));
      unflushed = true;
      c = Find(key);
      if (!c) break;
      if (static_cast<size_t>(n) < o_.read_chunk) break;  // drained: skip the EAGAIN read
      continue;
    }
    if (n == 0) {
      c->local_eof = true;
      tunnel_->CloseWrite(c->id);
      tunnel_->Flush();
      break;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    if (errno == EINTR) continue;
    if (unflushed) tunnel_->Flush();
    Finish(key, true);  // ECONNRESET and friends: the local client went away
    return;
  }
  if (unflushed && tunnel_) tunnel_->Flush();
  if ((c = Find(key))) UpdateInterest(c);
}

void Forwarder::WriteLocal(Conn* c) {
  uint64_t key = c->key;
  while (c->pending() > 0) {
    ssize_t n = ::send(c->fd, c->out.data() + c->out_off, c->pending(), MSG_NOSIGNAL);
    if (n > 0) {
      c->out_off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    Finish(key, true);  // EPIPE: the local client closed; nothing more to deliver
    return;
  }
  if (c->pending() == 0) {
    c->out.clear();
    c->out_off = 0;
  } else if (c->out_off > (1u << 20)) {
    c->out.erase(0, c->out_off);
    c->out_off = 0;
  }
  bool congested = c->pending() >= o_.local_high_water;
  if (congested != c->congested) {
    c->congested = congested;
    congested ? ++congested_locals_ : --congested_locals_;
    UpdateTunnelReading();
  }
  if (c->remote_eof && c->pending() == 0) {
    Finish(key, true);
    return;
  }
  UpdateInterest(c);
}

void Forwarder::UpdateTunnelReading() {
  bool reading = congested_locals_ == 0;
  if (!tunnel_ || reading == tunnel_reading_) return;
  tunnel_reading_ = reading;
  tunnel_->SetReading(reading);
}

void Forwarder::OnRemoteData(uint64_t key, std::string_view bytes) {
  Conn* c = Find(key);
  if (!c) return;
  to_local_ += bytes.size();
  c->out.append(bytes);
  // One TLS read brings several DATA frames: below a batch, let them gather and write them
  // with one send() when the loop reports the socket writable (after this read batch),
  // instead of one send() and one peer wake-up per frame.
  if (c->pending() >= kLocalWriteBatch || !c->watch) {
    WriteLocal(c);
    return;
  }
  UpdateInterest(c);
}

void Forwarder::OnRemoteClose(uint64_t key) {
  Conn* c = Find(key);
  if (!c) return;
  // As kubectl: once the remote side finished, the local connection is closed after the
  // remaining bytes were delivered.
  c->remote_eof = true;
  if (c->pending() == 0) {
    Finish(key, true);
    return;
  }
  UpdateInterest(c);
}

void Forwarder::OnRemoteError(uint64_t key, const Error& e) {
  Conn* c = Find(key);
  if (!c) return;
  if (o_.err_line) o_.err_line(e.message);
  c->opened = false;  // StreamPairClient already forgot the id
  Finish(key, false);
}

void Forwarder::DropTunnelConnections(const std::string& why) {
  std::vector<uint64_t> keys;
  for (auto& [key, c] : conns_)
    if (c->opened) keys.push_back(key);
  for (uint64_t key : keys) {
    if (Conn* c = Find(key)) {
      if (o_.err_line)
        o_.err_line("closing connection for " + std::to_string(c->local_port) + " -> " +
                    std::to_string(c->remote_port) + ": " + why);
      c->opened = false;
    }
    Finish(key, false);
  }
  congested_locals_ = 0;
  for (auto& [key, c] : conns_) c->congested = false;
}

void Forwarder::OnTunnelDrained() {
  std::vector<uint64_t> keys;
  for (auto& [key, c] : conns_)
    if (c->ready && !c->want_read) keys.push_back(key);
  for (uint64_t key : keys) {
    if (TunnelCongested()) break;
    if (Conn* c = Find(key)) UpdateInterest(c);
  }
}

void Forwarder::Finish(uint64_t key, bool close_remote) {
  auto it = conns_.find(key);
  if (it == conns_.end()) return;
  std::unique_ptr<Conn> c = std::move(it->second);
  conns_.erase(it);
  if (c->watch) loop_.Unwatch(c->watch);
  ::close(c->fd);
  if (c->congested) {
    --congested_locals_;
    UpdateTunnelReading();
  }
  if (close_remote && c->opened && tunnel_) {
    tunnel_->Close(c->id);
    tunnel_->Flush();
  }
}

}  // namespace kproxy::portforward
