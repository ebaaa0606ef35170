#include "tests/sim/streaming/portforward_session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <memory>

#include "core/portforward/stream_pairing_server.h"
#include "core/websocket/portforward_channels.h"
#include "tests/sim/streaming/conn_loop.h"

namespace kproxy::sim::streaming {

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kReadChunk = 32 * 1024;

// One local TCP connection to the "container" port and its pending bytes.
struct LocalSocket {
  int fd = -1;
  std::string to_socket;  // from the client, not yet written
  bool client_fin = false;
  bool shut_wr = false;
  bool socket_eof = false;
  ~LocalSocket() {
    if (fd >= 0) close(fd);
  }
  // Writes what the socket takes now; false on a write error.
  bool WritePending() {
    while (!to_socket.empty()) {
      ssize_t n = send(fd, to_socket.data(), to_socket.size(), MSG_NOSIGNAL);
      if (n > 0) {
        to_socket.erase(0, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
      return false;
    }
    if (client_fin && !shut_wr) {
      shutdown(fd, SHUT_WR);
      shut_wr = true;
    }
    return true;
  }
};

class SpdyForwarder {
 public:
  SpdyForwarder(Conn& conn, ServerTransport& transport, PortForwardParams params)
      : transport_(transport),
        streams_(*transport.streams()),
        params_(std::move(params)),
        loop_(conn, transport),
        pairs_(params_.stream_timeout) {}

  PortForwardStats Run(const std::string& already_read);

 private:
  struct Forward;
  // Receives one client stream's data; buffers it until its pair is complete.
  struct StreamState : StreamHandler {
    SpdyForwarder* owner = nullptr;
    StreamId id = 0;
    std::string buffered;
    bool remote_fin = false;
    bool dead = false;           // its pair failed: the client's late data is dropped
    Forward* forward = nullptr;  // set once paired (data streams only)
    void OnData(std::string_view bytes) override { owner->OnClientData(this, bytes); }
    void OnRemoteClose() override { owner->OnClientFin(this); }
    void OnReset(std::string_view) override { owner->OnClientReset(this); }
  };
  struct Forward {
    portforward::StreamPair pair;
    LocalSocket socket;
    bool finished = false;
  };

  StreamHandler* Accept(StreamId id, const StreamHeaders& headers);
  void StartPair(const portforward::StreamPair& pair);
  void OnClientData(StreamState* s, std::string_view bytes);
  void OnClientFin(StreamState* s);
  void OnClientReset(StreamState* s);
  void OnSocket(Forward* f, short revents);
  void UpdateWatch(Forward* f);
  void MaybeFinish(Forward* f);
  void Drop(Forward* f);
  void UpdatePause();

  ServerTransport& transport_;
  StreamConnection& streams_;
  PortForwardParams params_;
  ConnLoop loop_;
  portforward::StreamPairServer pairs_;
  std::map<StreamId, std::unique_ptr<StreamState>> states_;
  std::map<std::string, std::unique_ptr<Forward>> forwards_;
  std::vector<portforward::StreamPair> ready_;
  PortForwardStats stats_;
};

StreamHandler* SpdyForwarder::Accept(StreamId id, const StreamHeaders& headers) {
  if (states_.size() >= params_.max_streams) return nullptr;  // flood guard: reset it
  portforward::PairOutcome o = pairs_.Add(id, headers, Clock::now());
  switch (o.kind) {
    case portforward::PairOutcome::Kind::kRejected:
      return nullptr;
    case portforward::PairOutcome::Kind::kPairError:
      if (o.error_stream) {
        streams_.Write(*o.error_stream, o.message);
      }
      return nullptr;
    case portforward::PairOutcome::Kind::kComplete:
      ready_.push_back(o.pair);
      break;
    case portforward::PairOutcome::Kind::kPending:
      break;
  }
  auto state = std::make_unique<StreamState>();
  state->owner = this;
  state->id = id;
  StreamHandler* h = state.get();
  states_[id] = std::move(state);
  return h;
}

void SpdyForwarder::StartPair(const portforward::StreamPair& pair) {
  ++stats_.pairs;
  auto data = states_.find(pair.data_stream);
  if (data == states_.end()) return;  // reset meanwhile
  std::optional<int> local = params_.local_port(pair.port);
  std::string cause;
  int fd = -1;
  if (local) {
    fd = DialLocal(*local, params_.dial_timeout, &cause);
  } else {
    cause = "dial tcp4 127.0.0.1:" + std::to_string(pair.port) + ": connect: connection refused";
  }
  if (fd < 0) {
    ++stats_.dial_failures;
    // The kubelet writes the error, then closes (FINs) both streams of the pair.
    streams_.Write(pair.error_stream,
                   DialErrorText(params_.pod_name, params_.pod_uid, pair.port, cause));
    streams_.CloseWrite(pair.error_stream);
    streams_.CloseWrite(pair.data_stream);
    // The session still holds these handlers (the client may send more or reset them), so
    // they stay alive, marked dead, until the client resets them or the session ends.
    data->second->dead = true;
    if (auto e = states_.find(pair.error_stream); e != states_.end()) e->second->dead = true;
    return;
  }
  auto f = std::make_unique<Forward>();
  f->pair = pair;
  f->socket.fd = fd;
  StreamState* ds = data->second.get();
  ds->forward = f.get();
  f->socket.to_socket = std::move(ds->buffered);
  f->socket.client_fin = ds->remote_fin;
  Forward* raw = f.get();
  forwards_[pair.request_id] = std::move(f);
  if (!raw->socket.WritePending()) {
    Drop(raw);
    return;
  }
  UpdateWatch(raw);
  UpdatePause();
}

void SpdyForwarder::OnClientData(StreamState* s, std::string_view bytes) {
  if (s->dead) return;
  if (!s->forward) {
    // Data before the pair is complete (or on the error stream, which carries none).
    if (s->buffered.size() + bytes.size() > params_.max_pending) {
      streams_.Reset(s->id);
      return;
    }
    s->buffered.append(bytes);
    return;
  }
  Forward* f = s->forward;
  stats_.bytes_to_pod += bytes.size();
  f->socket.to_socket.append(bytes);
  if (!f->socket.WritePending()) {
    Drop(f);
    return;
  }
  UpdateWatch(f);
  UpdatePause();
}

void SpdyForwarder::OnClientFin(StreamState* s) {
  s->remote_fin = true;
  if (!s->forward) return;
  Forward* f = s->forward;
  f->socket.client_fin = true;
  if (!f->socket.WritePending()) {
    Drop(f);
    return;
  }
  MaybeFinish(f);
}

void SpdyForwarder::OnClientReset(StreamState* s) {
  Forward* f = s->forward;
  StreamId id = s->id;
  if (f) {
    Drop(f);  // erases both states
  } else {
    states_.erase(id);
  }
}

void SpdyForwarder::OnSocket(Forward* f, short revents) {
  if (revents & POLLOUT) {
    if (!f->socket.WritePending()) {
      Drop(f);
      return;
    }
    UpdatePause();
  }
  if (revents & (POLLIN | POLLHUP | POLLERR)) {
    char buf[kReadChunk];
    ssize_t n = recv(f->socket.fd, buf, sizeof buf, 0);
    if (n > 0) {
      stats_.bytes_from_pod += static_cast<uint64_t>(n);
      streams_.Write(f->pair.data_stream, std::string_view(buf, static_cast<size_t>(n)));
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      f->socket.socket_eof = true;
      streams_.CloseWrite(f->pair.data_stream);
      // The container closed: the kubelet's forward is over (containerd returns at most 1 s
      // after the first direction ends) and the kubelet closes the error stream with it.
      // kubectl waits for that EOF before closing its local connection; without it SPDY
      // kubectl (1.27-1.30) keeps the local connection open until the client gives up.
      streams_.CloseWrite(f->pair.error_stream);
    }
  }
  UpdateWatch(f);
  MaybeFinish(f);
}

void SpdyForwarder::UpdateWatch(Forward* f) {
  short ev = 0;
  if (!f->socket.socket_eof) ev |= POLLIN;
  if (!f->socket.to_socket.empty()) ev |= POLLOUT;
  loop_.Watch(f->socket.fd, ev, [this, f](short rev) { OnSocket(f, rev); });
}

void SpdyForwarder::MaybeFinish(Forward* f) {
  // The error stream was closed at the socket's EOF.
  if (!(f->socket.socket_eof && f->socket.client_fin && f->socket.to_socket.empty())) return;
  Drop(f);
}

void SpdyForwarder::Drop(Forward* f) {
  loop_.Unwatch(f->socket.fd);
  // Streams not finished both ways are reset (kubelet: the pair is removed, the conn lives).
  streams_.Reset(f->pair.data_stream);
  streams_.Reset(f->pair.error_stream);
  states_.erase(f->pair.data_stream);
  states_.erase(f->pair.error_stream);
  forwards_.erase(f->pair.request_id);  // destroys f and closes the socket
  UpdatePause();
}

void SpdyForwarder::UpdatePause() {
  bool congested = false;
  for (const auto& [id, f] : forwards_)
    if (f->socket.to_socket.size() > params_.max_pending) congested = true;
  loop_.PauseReads(congested);
}

PortForwardStats SpdyForwarder::Run(const std::string& already_read) {
  streams_.SetAcceptHandler([this](StreamId id, const StreamHeaders& h) { return Accept(id, h); });
  if (!already_read.empty() && !transport_.Receive(already_read).ok()) {
    loop_.Flush();
    stats_.end_reason = "protocol error";
    return stats_;
  }
  while (true) {
    // Pairs completed inside the accept handler start here, after their SYN_REPLY is queued.
    for (const portforward::StreamPair& p : std::exchange(ready_, {})) StartPair(p);
    for (const portforward::ExpiredPair& e : pairs_.Expire(Clock::now())) {
      if (e.error_stream) {
        streams_.Write(*e.error_stream, e.message);
        streams_.CloseWrite(*e.error_stream);
        states_.erase(*e.error_stream);
      }
      if (e.data_stream) {
        streams_.Reset(*e.data_stream);
        states_.erase(*e.data_stream);
      }
    }
    if (!loop_.RunOnce(ready_.empty() ? 200 : 0)) {
      stats_.end_reason = loop_.error().error().message;
      break;
    }
    if (transport_.PeerClosed()) {
      stats_.end_reason = "client ended the session";
      transport_.End();
      loop_.Flush();
      break;
    }
  }
  for (auto& [id, f] : forwards_) loop_.Unwatch(f->socket.fd);
  forwards_.clear();
  return stats_;
}

}  // namespace

std::string DialErrorText(const std::string& pod_name, const std::string& pod_uid, uint16_t port,
                          const std::string& cause) {
  // containerd's wording as the kubelet relays it (kubectl prefixes "an error occurred
  // forwarding L -> P: "). Under CRI the kubelet names the pod by its sandbox id and leaves the
  // uid empty ("uid :"); the sandbox id here is derived from the pod.
  unsigned char md[SHA256_DIGEST_LENGTH];
  std::string seed = pod_uid.empty() ? pod_name : pod_uid;
  SHA256(reinterpret_cast<const unsigned char*>(seed.data()), seed.size(), md);
  static const char* hex = "0123456789abcdef";
  std::string sandbox;
  for (unsigned char c : md) sandbox += {hex[c >> 4], hex[c & 15]};
  std::string p = std::to_string(port);
  return "error forwarding port " + p + " to pod " + sandbox +
         ", uid : failed to execute portforward in network namespace \"/var/run/netns/cni-" +
         sandbox.substr(0, 8) + "-" + sandbox.substr(8, 4) + "-" + sandbox.substr(12, 4) +
         "\": failed to connect to localhost:" + p + " inside namespace \"" + sandbox +
         "\", IPv4: " + cause + " IPv6 dial tcp6 [::1]:" + p + ": connect: connection refused ";
}

int DialLocal(int port, std::chrono::milliseconds timeout, std::string* error) {
  std::string target = "127.0.0.1:" + std::to_string(port);
  auto fail = [&](int fd, int err) {
    if (fd >= 0) close(fd);
    *error = "dial tcp4 " + target + ": connect: " + std::string(strerror(err));
    if (err == ECONNREFUSED) *error = "dial tcp4 " + target + ": connect: connection refused";
    if (err == ETIMEDOUT) *error = "dial tcp4 " + target + ": i/o timeout";
    return -1;
  };
  if (port <= 0 || port > 65535) return fail(-1, EINVAL);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(-1, errno);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) return fail(fd, errno);
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) return fail(fd, ETIMEDOUT);
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail(fd, err);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

PortForwardStats RunSpdyPortForward(Conn& conn, ServerTransport& transport,
                                    const std::string& already_read, PortForwardParams params) {
  SpdyForwarder f(conn, transport, std::move(params));
  return f.Run(already_read);
}

PortForwardStats RunLegacyWsPortForward(Conn& conn, WsMessageTransport& transport,
                                        const std::string& already_read,
                                        const std::vector<uint16_t>& ports,
                                        PortForwardParams params) {
  PortForwardStats stats;
  ConnLoop loop(conn, transport);
  std::vector<std::unique_ptr<LocalSocket>> sockets(ports.size());
  size_t open = 0;
  // The kubelet announces each port on both of its channels, then dials it.
  for (size_t i = 0; i < ports.size(); ++i) {
    transport.Send(ws::PortForwardDataChannel(i), ws::EncodePortPrefix(ports[i]));
    transport.Send(ws::PortForwardErrorChannel(i), ws::EncodePortPrefix(ports[i]));
  }
  auto update_pause = [&] {
    bool congested = false;
    for (auto& s : sockets)
      if (s && s->to_socket.size() > params.max_pending) congested = true;
    loop.PauseReads(congested);
  };
  std::function<void(size_t)> watch;
  auto drop = [&](size_t i) {
    loop.Unwatch(sockets[i]->fd);
    sockets[i].reset();
    --open;
  };
  auto on_socket = [&](size_t i, short rev) {
    LocalSocket* s = sockets[i].get();
    if ((rev & POLLOUT) && !s->WritePending()) return drop(i);
    if (rev & (POLLIN | POLLHUP | POLLERR)) {
      char buf[kReadChunk];
      ssize_t n = recv(s->fd, buf, sizeof buf, 0);
      if (n > 0) {
        stats.bytes_from_pod += static_cast<uint64_t>(n);
        transport.Send(ws::PortForwardDataChannel(i), std::string_view(buf, n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        return drop(i);  // no half-close in this protocol: the port's forward is over
      }
    }
    watch(i);
    update_pause();
  };
  watch = [&](size_t i) {
    LocalSocket* s = sockets[i].get();
    short ev = POLLIN | (s->to_socket.empty() ? 0 : POLLOUT);
    loop.Watch(s->fd, ev, [&on_socket, i](short rev) { on_socket(i, rev); });
  };
  for (size_t i = 0; i < ports.size(); ++i) {
    std::optional<int> local = params.local_port(ports[i]);
    std::string cause =
        "dial tcp4 127.0.0.1:" + std::to_string(ports[i]) + ": connect: connection refused";
    int fd = local ? DialLocal(*local, params.dial_timeout, &cause) : -1;
    if (fd < 0) {
      ++stats.dial_failures;
      transport.Send(ws::PortForwardErrorChannel(i),
                     DialErrorText(params.pod_name, params.pod_uid, ports[i], cause));
      continue;
    }
    sockets[i] = std::make_unique<LocalSocket>();
    sockets[i]->fd = fd;
    ++open;
    ++stats.pairs;
    watch(i);
  }
  transport.SetMessageHandler([&](const ws::ChannelMessage& m) -> Status {
    if (m.kind != ws::ChannelMessage::Kind::kData || m.payload.empty()) return Status::Ok();
    size_t i = m.channel / 2;
    if (m.channel % 2 == 1 || i >= sockets.size() || !sockets[i]) return Status::Ok();
    stats.bytes_to_pod += m.payload.size();
    sockets[i]->to_socket.append(m.payload);
    if (!sockets[i]->WritePending()) {
      drop(i);
      return Status::Ok();
    }
    watch(i);
    update_pause();
    return Status::Ok();
  });
  if (!already_read.empty() && !transport.Receive(already_read).ok()) {
    loop.Flush();
    stats.end_reason = "protocol error";
    return stats;
  }
  while (true) {
    if (open == 0) {
      stats.end_reason = "every port's forward ended";
      transport.End();
      loop.Flush();
      break;
    }
    if (!loop.RunOnce(200)) {
      stats.end_reason = loop.error().error().message;
      break;
    }
    if (transport.PeerClosed()) {
      stats.end_reason = "client ended the session";
      loop.Flush();
      break;
    }
  }
  for (auto& s : sockets)
    if (s) loop.Unwatch(s->fd);
  return stats;
}

}  // namespace kproxy::sim::streaming
