// The floor of the WebSocket data path on libwebsockets 4.1.6: client CPU per byte (ns/B) for
// N MB server→client ("down", like exec stdout) and client→server ("up", like stdin), over
// TLS (default) or plain TCP on 127.0.0.1, for four clients of increasing depth:
//   tls      blocking SSL_read/SSL_write loop, no WebSocket: kernel + TLS, what any client pays
//   lws      a bare lws protocol callback on our EventLoop's context: lws framing alone
//   wsclient core/transport/ws_client (our lws wrapper: queue, reassembly, callbacks)
//   kproxy   DialWebSocket → channel layer (v5) → a stream handler: the whole kproxy path
//            below remotecommand
// CPU is the client thread's (CLOCK_THREAD_CPUTIME_ID); the server is a thread of this process
// that writes pre-built frames and skips payload without unmasking, so it costs little.
// Usage: lws_floor_bench [MB=100] [--plain] [--payload=BYTES(32769)] [--only=NAME,...]
//                        [--dir=down|up] [--runs=N]
#include <libwebsockets.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/session/stream_transport.h"
#include "core/transport/event_loop.h"
#include "core/transport/ws_client.h"
#include "core/transport/ws_client_tls.h"
#include "tests/unit/transport_test_support.h"

namespace {

using kproxy::EventLoop;
namespace t = kproxy::test;

constexpr const char* kSubprotocol = "v5.channel.k8s.io";

struct Config {
  size_t bytes = 100u << 20;
  bool tls = true;
  size_t payload = 32 * 1024 + 1;  // channel byte + io.Copy's 32 KiB, as the kubelet sends
  std::string only;
  std::string dir;  // "down" / "up" / "" = both
  int runs = 1;
};
Config g_cfg;

double ThreadCpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

// ---- server side (bench only, not a codec under test) --------------------------------------

ssize_t IoRead(SSL* ssl, int fd, char* b, size_t n) {
  return ssl ? SSL_read(ssl, b, static_cast<int>(n)) : read(fd, b, n);
}
bool IoWriteAll(SSL* ssl, int fd, const char* b, size_t n) {
  while (n) {
    ssize_t w = ssl ? SSL_write(ssl, b, static_cast<int>(n)) : write(fd, b, n);
    if (w <= 0) return false;
    b += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}
std::string ReadHeadAny(SSL* ssl, int fd) {
  std::string head;
  char c;
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
    if (IoRead(ssl, fd, &c, 1) != 1) break;
    head.push_back(c);
  }
  return head;
}

// Server frame header (unmasked, FIN, binary) for `len` payload bytes.
std::string FrameHeader(uint8_t opcode, size_t len) {
  std::string h(1, static_cast<char>(0x80 | opcode));
  if (len < 126) {
    h.push_back(static_cast<char>(len));
  } else if (len < 65536) {
    h.push_back(126);
    h.push_back(static_cast<char>(len >> 8));
    h.push_back(static_cast<char>(len));
  } else {
    h.push_back(127);
    for (int i = 7; i >= 0; --i) h.push_back(static_cast<char>(len >> (8 * i)));
  }
  return h;
}

// Writes frames until `total` payload bytes went out, then a close 1000; drains until EOF.
void ServeDown(SSL* ssl, int fd, size_t total, bool websocket) {
  std::string frame = FrameHeader(2, g_cfg.payload);
  std::string payload(g_cfg.payload, 'x');
  payload[0] = 1;  // stdout channel
  frame += payload;
  std::string block;
  while (block.size() < (1u << 20)) block += frame;
  const size_t per_block = block.size() / frame.size() * g_cfg.payload;
  size_t sent = 0;
  while (sent + per_block <= total) {
    if (!IoWriteAll(ssl, fd, block.data(), block.size())) return;
    sent += per_block;
  }
  while (sent < total) {
    if (!IoWriteAll(ssl, fd, frame.data(), frame.size())) return;
    sent += g_cfg.payload;
  }
  if (websocket) {
    std::string close = FrameHeader(8, 2) + std::string("\x03\xe8", 2);
    IoWriteAll(ssl, fd, close.data(), close.size());
  } else if (ssl) {
    SSL_shutdown(ssl);
  } else {
    shutdown(fd, SHUT_WR);
  }
  char buf[4096];
  while (IoRead(ssl, fd, buf, sizeof buf) > 0) {
  }
}

// Reads client frames, skipping (not unmasking) payload, until a close frame; answers it.
// Plain mode: reads until EOF. Reports the payload bytes seen.
size_t ServeUp(SSL* ssl, int fd, bool websocket) {
  std::vector<char> buf(256 * 1024);
  size_t payload_seen = 0;
  std::string hdr;    // collecting a frame header
  uint64_t skip = 0;  // payload bytes still to skip in the current frame
  uint8_t opcode = 0;
  for (;;) {
    ssize_t n = IoRead(ssl, fd, buf.data(), buf.size());
    if (n <= 0) return payload_seen;
    if (!websocket) {
      payload_seen += static_cast<size_t>(n);
      continue;
    }
    size_t i = 0, len = static_cast<size_t>(n);
    while (i < len) {
      if (skip) {
        size_t k = std::min<uint64_t>(skip, len - i);
        skip -= k;
        i += k;
        if (opcode != 8) payload_seen += k;
        if (!skip && opcode == 8) {
          std::string close = FrameHeader(8, 2) + std::string("\x03\xe8", 2);
          IoWriteAll(ssl, fd, close.data(), close.size());
          return payload_seen;
        }
        continue;
      }
      hdr.push_back(buf[i++]);
      if (hdr.size() < 2) continue;
      uint8_t l7 = static_cast<uint8_t>(hdr[1]) & 0x7f;
      size_t need = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + 4;
      if (hdr.size() < need) continue;
      uint64_t plen = l7;
      if (l7 == 126) plen = (uint8_t(hdr[2]) << 8) | uint8_t(hdr[3]);
      if (l7 == 127) {
        plen = 0;
        for (int k = 0; k < 8; ++k) plen = (plen << 8) | uint8_t(hdr[2 + k]);
      }
      opcode = static_cast<uint8_t>(hdr[0]) & 0x0f;
      hdr.clear();
      skip = plen;
      if (!skip && opcode == 8) {
        std::string close = FrameHeader(8, 2) + std::string("\x03\xe8", 2);
        IoWriteAll(ssl, fd, close.data(), close.size());
        return payload_seen;
      }
    }
  }
}

std::atomic<size_t> g_server_seen{0};

void Handle(SSL* ssl, int fd) {
  std::string head = ReadHeadAny(ssl, fd);
  bool down = head.find(" /down") != std::string::npos;
  bool websocket = head.find("Upgrade: websocket") != std::string::npos ||
                   head.find("upgrade: websocket") != std::string::npos;
  if (websocket) {
    std::string key = t::HeaderValue(head, "sec-websocket-key");
    std::string resp =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: " +
        t::AcceptFor(key) + "\r\nSec-WebSocket-Protocol: " + kSubprotocol + "\r\n\r\n";
    IoWriteAll(ssl, fd, resp.data(), resp.size());
  }
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (down) {
    ServeDown(ssl, fd, g_cfg.bytes, websocket);
  } else {
    g_server_seen = ServeUp(ssl, fd, websocket);
  }
}

// ---- clients -------------------------------------------------------------------------------

struct Outcome {
  size_t bytes = 0;  // payload bytes moved (as seen by the receiver)
  bool ok = false;
};

// Plain blocking TLS/TCP, no WebSocket: the cost every client pays.
Outcome RunTlsBaseline(int port, bool down) {
  Outcome out;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return out;
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  if (g_cfg.tls) {
    ctx = SSL_CTX_new(TLS_client_method());
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) return out;
  }
  std::string req = std::string("GET ") + (down ? "/down" : "/up") + " HTTP/1.1\r\n\r\n";
  IoWriteAll(ssl, fd, req.data(), req.size());
  if (down) {
    std::vector<char> buf(64 * 1024);
    size_t got = 0;
    ssize_t n;
    while ((n = IoRead(ssl, fd, buf.data(), buf.size())) > 0) got += static_cast<size_t>(n);
    out.bytes = got;  // framed bytes: within 0.01% of the payload
  } else {
    std::string chunk(g_cfg.payload, 'y');
    size_t sent = 0;
    while (sent < g_cfg.bytes && IoWriteAll(ssl, fd, chunk.data(), chunk.size()))
      sent += chunk.size();
    if (ssl) SSL_shutdown(ssl);
    shutdown(fd, SHUT_WR);
    char c;
    while (IoRead(ssl, fd, &c, 1) > 0) {
    }
    out.bytes = sent;
  }
  out.ok = true;
  if (ssl) SSL_free(ssl);
  if (ctx) SSL_CTX_free(ctx);
  close(fd);
  return out;
}

// A bare lws client: CLIENT_RECEIVE counts, CLIENT_WRITEABLE writes one payload-sized message.
struct RawState {
  bool down = true;
  size_t got = 0, sent = 0;
  bool done = false, failed = false;
  std::vector<unsigned char> buf;
};

int RawCallback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
  auto* st = static_cast<RawState*>(user);
  switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      if (st && !st->down) lws_callback_on_writable(wsi);
      return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
      if (st) st->got += len;
      return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
      if (!st) return -1;
      if (st->sent >= g_cfg.bytes) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, nullptr, 0);
        return -1;
      }
      const size_t n = g_cfg.payload;
      if (lws_write(wsi, st->buf.data() + LWS_PRE, n, LWS_WRITE_BINARY) < static_cast<int>(n))
        return -1;
      st->sent += n;
      lws_callback_on_writable(wsi);
      return 0;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
      if (st) st->failed = st->done = true;
      std::fprintf(stderr, "lws: connection error: %s\n", in ? static_cast<char*>(in) : "");
      return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
      if (st) st->done = true;
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

const lws_protocols kRawProtocols[] = {
    {"bench-raw", RawCallback, 0, 64 * 1024, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

Outcome RunLwsRaw(EventLoop& loop, int port, bool down) {
  Outcome out;
  RawState st;
  st.down = down;
  st.buf.assign(LWS_PRE + g_cfg.payload, 'z');
  SSL_CTX* ctx = nullptr;
  lws* wsi = nullptr;
  std::unique_ptr<kproxy::WsTlsPeer> peer;  // SNI/IP verification on the shared context
  lws_context_creation_info vi;
  std::memset(&vi, 0, sizeof vi);
  vi.port = CONTEXT_PORT_NO_LISTEN;
  vi.protocols = kRawProtocols;
  static int counter = 0;
  std::string name = "bench-raw-" + std::to_string(++counter);
  vi.vhost_name = name.c_str();
  vi.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  if (g_cfg.tls) {
    kproxy::TlsSettings tls;
    tls.ca_pem = t::Pki().ca_pem;
    auto c = kproxy::AcquireWsClientSslCtx(tls);
    if (!c.ok()) return out;
    ctx = *c;
    peer = std::make_unique<kproxy::WsTlsPeer>(tls, "127.0.0.1", &wsi);
    vi.provided_client_ssl_ctx = ctx;
  }
  lws_vhost* vh = lws_create_vhost(loop.lws(), &vi);
  if (!vh) return out;
  lws_client_connect_info ci;
  std::memset(&ci, 0, sizeof ci);
  ci.context = loop.lws();
  ci.vhost = vh;
  ci.address = "127.0.0.1";
  ci.port = port;
  ci.path = down ? "/down" : "/up";
  ci.host = "127.0.0.1";
  ci.protocol = kSubprotocol;
  ci.local_protocol_name = "bench-raw";
  ci.ietf_version_or_minus_one = -1;
  ci.userdata = &st;
  ci.pwsi = &wsi;
  ci.alpn = "http/1.1";
  if (g_cfg.tls) ci.ssl_connection = LCCSCF_USE_SSL;
  if (!lws_client_connect_via_info(&ci)) return out;
  loop.RunUntil([&] { return st.done; }, std::chrono::seconds(120));
  out.ok = st.done && !st.failed;
  out.bytes = down ? st.got : st.sent;
  loop.Post([vh] { lws_vhost_destroy(vh); });
  loop.RunUntil([] { return false; }, std::chrono::milliseconds(20));
  if (ctx) SSL_CTX_free(ctx);
  return out;
}

kproxy::DialTarget Target(int port) {
  kproxy::DialTarget d;
  d.server.scheme = g_cfg.tls ? "https" : "http";
  d.server.host = "127.0.0.1";
  d.server.port = static_cast<uint16_t>(port);
  d.tls.ca_pem = t::Pki().ca_pem;
  d.timeout = std::chrono::seconds(10);
  return d;
}

constexpr size_t kHighWater = 256 * 1024;  // the relay's stdin high-water mark

Outcome RunWsClient(EventLoop& loop, int port, bool down) {
  Outcome out;
  kproxy::WsClientOptions o;
  o.target = Target(port);
  o.path_and_query = down ? "/down" : "/up";
  o.subprotocols = {kSubprotocol};
  o.refusal_reader = nullptr;
  bool done = false, failed = false;
  size_t got = 0, sent = 0;
  const std::string chunk(g_cfg.payload, 'w');
  std::unique_ptr<kproxy::WsClient> c;
  auto pump = [&] {
    while (sent < g_cfg.bytes && c->BufferedBytes() < kHighWater) {
      c->Send(chunk);
      sent += chunk.size();
    }
    if (sent >= g_cfg.bytes) c->Close(1000);
  };
  kproxy::WsClient::Callbacks cb;
  cb.on_open = [&](const std::string&) {
    if (!down) pump();
  };
  cb.on_failed = [&](const kproxy::WsConnectFailure& f) {
    std::fprintf(stderr, "wsclient: %s\n", f.error.message.c_str());
    failed = done = true;
  };
  cb.on_message = [&](std::string_view m, bool) { got += m.size(); };
  cb.on_closed = [&](kproxy::Status) { done = true; };
  cb.on_drained = [&] {
    if (!down) pump();
  };
  c = kproxy::WsClient::Connect(loop, std::move(o), std::move(cb));
  loop.RunUntil([&] { return done; }, std::chrono::seconds(120));
  out.ok = done && !failed;
  out.bytes = down ? got : sent;
  c.reset();
  loop.RunUntil([] { return false; }, std::chrono::milliseconds(20));
  return out;
}

class CountingHandler : public kproxy::StreamHandler {
 public:
  void OnData(std::string_view bytes) override { got += bytes.size(); }
  void OnRemoteClose() override {}
  void OnReset(std::string_view) override {}
  size_t got = 0;
};

Outcome RunKproxy(EventLoop& loop, int port, bool down) {
  Outcome out;
  kproxy::UpgradeTarget target;
  target.dial = Target(port);
  target.path_and_query = down ? "/down" : "/up";
  target.user_agent = "kproxy-bench kubernetes/bench";
  bool done = false, failed = false;
  std::unique_ptr<kproxy::StreamTransport> transport;
  auto pending = kproxy::DialWebSocket(
      loop, target, {kSubprotocol}, kproxy::RefusalContext{},
      [&](kproxy::Result<std::unique_ptr<kproxy::StreamTransport>> r, kproxy::AttemptFailure f) {
        if (!r.ok()) {
          std::fprintf(stderr, "kproxy dial: %s\n", f.error.message.c_str());
          failed = done = true;
          return;
        }
        transport = std::move(*r);
      });
  loop.RunUntil([&] { return done || transport != nullptr; }, std::chrono::seconds(10));
  if (!transport) return out;
  CountingHandler out_handler, in_handler;
  kproxy::StreamHeaders h;
  h.Set("streamtype", "stdout");
  kproxy::StreamConnection* conn = transport->connection();
  conn->OpenStream(h, &out_handler, nullptr);
  h.Set("streamtype", "stdin");
  kproxy::StreamId in_id = conn->OpenStream(h, &in_handler, nullptr);
  size_t sent = 0;
  // The relay's stdin reads: payload minus the channel byte per message.
  const std::string chunk(g_cfg.payload - 1, 's');
  bool closing = false;
  auto pump = [&] {
    while (sent < g_cfg.bytes && transport->BufferedBytes() < kHighWater) {
      conn->Write(in_id, chunk);
      transport->Flush();
      sent += chunk.size() + 1;
    }
    if (sent >= g_cfg.bytes && !closing) {
      closing = true;
      conn->CloseWrite(in_id);
      transport->Flush();
      transport->Close();
    }
  };
  kproxy::StreamTransport::Callbacks cb;
  cb.on_closed = [&](kproxy::Status) { done = true; };
  cb.on_drained = [&] {
    if (!down) pump();
  };
  transport->SetCallbacks(std::move(cb));
  if (!down) pump();
  loop.RunUntil([&] { return done; }, std::chrono::seconds(120));
  out.ok = done && !failed;
  out.bytes = down ? out_handler.got : sent;
  transport.reset();
  pending.reset();
  loop.RunUntil([] { return false; }, std::chrono::milliseconds(20));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  size_t mb = 100;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--plain")
      g_cfg.tls = false;
    else if (a.rfind("--payload=", 0) == 0)
      g_cfg.payload = std::stoul(a.substr(10));
    else if (a.rfind("--only=", 0) == 0)
      g_cfg.only = a.substr(7);
    else if (a.rfind("--dir=", 0) == 0)
      g_cfg.dir = a.substr(6);
    else if (a.rfind("--runs=", 0) == 0)
      g_cfg.runs = std::stoi(a.substr(7));
    else
      mb = std::stoul(a);
  }
  g_cfg.bytes = mb << 20;
  if (g_cfg.tls && !t::Pki().ok) {
    std::fprintf(stderr, "could not create the test PKI (openssl CLI)\n");
    return 1;
  }
  auto loop_or = EventLoop::Create();
  if (!loop_or.ok()) return 1;
  EventLoop& loop = **loop_or;
  t::TestTlsServer::Options so;
  so.tls = g_cfg.tls;
  t::TestTlsServer server(so, Handle);

  std::printf("%s, %zu MiB per run, %zu-byte messages; client-thread CPU\n",
              g_cfg.tls ? "TLS" : "plain TCP", mb, g_cfg.payload);
  std::printf("%-9s %-5s %9s %9s %9s\n", "client", "dir", "wall s", "cpu s", "cpu ns/B");
  struct Variant {
    const char* name;
    std::function<Outcome(bool)> run;
  };
  const int port = server.port();
  std::vector<Variant> variants = {
      {"tls", [&](bool d) { return RunTlsBaseline(port, d); }},
      {"lws", [&](bool d) { return RunLwsRaw(loop, port, d); }},
      {"wsclient", [&](bool d) { return RunWsClient(loop, port, d); }},
      {"kproxy", [&](bool d) { return RunKproxy(loop, port, d); }},
  };
  int rc = 0;
  for (int r = 0; r < g_cfg.runs; ++r) {
    for (auto& v : variants) {
      if (!g_cfg.only.empty() && g_cfg.only.find(v.name) == std::string::npos) continue;
      for (bool down : {true, false}) {
        if (!g_cfg.dir.empty() && g_cfg.dir != (down ? "down" : "up")) continue;
        g_server_seen = 0;
        auto w0 = std::chrono::steady_clock::now();
        double c0 = ThreadCpu();
        Outcome o = v.run(down);
        double cpu = ThreadCpu() - c0;
        double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
        // The receiver's count must match what was asked for (down: the client; up: the
        // server, which only sees complete frames).
        size_t check = down ? o.bytes : g_server_seen.load();
        bool good = o.ok && check + 64 * 1024 >= g_cfg.bytes;
        if (!good) rc = 1;
        std::printf("%-9s %-5s %9.3f %9.3f %9.2f%s\n", v.name, down ? "down" : "up", wall, cpu,
                    cpu * 1e9 / static_cast<double>(g_cfg.bytes),
                    good ? "" : "   FAILED (bytes short)");
        std::fflush(stdout);
      }
    }
  }
  return rc;
}
