// The WebSocket client against real kubectl 1.33 sessions (../shared/vectors): the server's
// recorded bytes are replayed to our client, and what our client sends for kubectl's messages
// is compared with kubectl's own frames. Frames are parsed by an independent test-only
// parser (RFC 6455 §5.2), never by production code.
#include <doctest/doctest.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/transport/event_loop.h"
#include "core/transport/ws_client.h"
#include "tests/support/test_env.h"
#include "tests/support/transcript.h"
#include "tests/unit/transport_test_support.h"

namespace kproxy {
namespace {

using std::chrono::milliseconds;

struct TestFrame {
  bool fin = false;
  int opcode = 0;
  bool masked = false;
  std::string payload;  // unmasked
};

// Parses as many complete frames as `bytes` holds; the rest stays in `bytes`.
std::vector<TestFrame> ParseFrames(std::string& bytes) {
  std::vector<TestFrame> out;
  for (;;) {
    if (bytes.size() < 2) return out;
    const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
    TestFrame f;
    f.fin = b[0] & 0x80;
    f.opcode = b[0] & 0x0f;
    f.masked = b[1] & 0x80;
    uint64_t len = b[1] & 0x7f;
    size_t pos = 2;
    if (len == 126) {
      if (bytes.size() < 4) return out;
      len = (uint64_t{b[2]} << 8) | b[3];
      pos = 4;
    } else if (len == 127) {
      if (bytes.size() < 10) return out;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | b[2 + i];
      pos = 10;
    }
    unsigned char mask[4] = {0, 0, 0, 0};
    if (f.masked) {
      if (bytes.size() < pos + 4) return out;
      for (int i = 0; i < 4; ++i) mask[i] = b[pos + i];
      pos += 4;
    }
    if (bytes.size() < pos + len) return out;
    f.payload = bytes.substr(pos, len);
    for (size_t i = 0; i < f.payload.size(); ++i) f.payload[i] ^= static_cast<char>(mask[i % 4]);
    bytes.erase(0, pos + len);
    out.push_back(std::move(f));
  }
}

// Data messages (reassembled) of a whole frame stream; `close_code` gets the close frame's.
std::vector<std::string> DataMessages(std::string stream, int* close_code) {
  std::vector<std::string> messages;
  std::string partial;
  for (auto& f : ParseFrames(stream)) {
    if (f.opcode == 8) {
      if (close_code && f.payload.size() >= 2)
        *close_code = (static_cast<unsigned char>(f.payload[0]) << 8) |
                      static_cast<unsigned char>(f.payload[1]);
      continue;
    }
    if (f.opcode >= 8) continue;  // ping/pong
    partial += f.payload;
    if (f.fin) {
      messages.push_back(partial);
      partial.clear();
    }
  }
  return messages;
}

void ReplaySession(const std::string& name) {
  REQUIRE(test::Pki().ok);
  auto transcript = test::LoadTranscript(test::VectorsDir() / (name + ".transcript"));
  int kubectl_close = -1;
  const std::vector<std::string> kubectl_sends = DataMessages(transcript.ClientBytes(), nullptr);
  const std::vector<std::string> server_sends =
      DataMessages(transcript.ServerBytes(), &kubectl_close);
  REQUIRE_FALSE(server_sends.empty());

  std::mutex mu;
  std::vector<TestFrame> ours;
  test::TestTlsServer server({}, [&](SSL* ssl, int) {
    std::string head = test::ReadHead(ssl);
    test::SslWriteAll(ssl,
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                          test::AcceptFor(test::HeaderValue(head, "sec-websocket-key")) +
                          "\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n");
    // Take the client's data frames first (as the real server waited for stdin), then replay
    // every byte the real server sent, close frame included.
    std::string buf;
    size_t data_frames = 0;
    char chunk[4096];
    while (data_frames < kubectl_sends.size()) {
      int n = SSL_read(ssl, chunk, sizeof chunk);
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
      for (auto& f : ParseFrames(buf)) {
        if (f.opcode < 8) ++data_frames;
        std::lock_guard<std::mutex> l(mu);
        ours.push_back(std::move(f));
      }
    }
    test::SslWriteAll(ssl, transcript.ServerBytes());
    while (SSL_read(ssl, chunk, sizeof chunk) > 0) {
    }
  });

  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  WsClientOptions o;
  o.target.server = {"https", "127.0.0.1", static_cast<uint16_t>(server.port()), ""};
  o.target.tls.ca_pem = test::Pki().ca_pem;
  o.path_and_query = "/api/v1/namespaces/default/pods/alpha/exec?command=sh";
  o.subprotocols = {"v5.channel.k8s.io", "v4.channel.k8s.io"};
  std::vector<std::string> received;
  std::optional<Status> closed;
  bool failed = false;
  std::unique_ptr<WsClient> client;
  client = WsClient::Connect(**loop, o,
                             {[&](const std::string&) {
                                for (const auto& m : kubectl_sends) client->Send(m);
                              },
                              [&](const WsConnectFailure&) { failed = true; },
                              [&](std::string_view m, bool) { received.emplace_back(m); },
                              [&](Status s) { closed = s; }, nullptr});
  CHECK((*loop)->RunUntil([&] { return closed.has_value() || failed; }, milliseconds(8000)));
  CHECK_FALSE(failed);
  CHECK(received == server_sends);  // every server message, reassembled, in order
  REQUIRE(closed.has_value());
  CHECK(kubectl_close == 1000);
  CHECK(closed->ok());  // status on channel 3, then close 1000: a normal end

  std::lock_guard<std::mutex> l(mu);
  std::vector<std::string> our_payloads;
  for (const auto& f : ours) {
    if (f.opcode >= 8) continue;
    CHECK(f.fin);          // one unfragmented frame per message
    CHECK(f.opcode == 2);  // binary
    CHECK(f.masked);       // RFC 6455 §5.3: client frames are masked
    our_payloads.push_back(f.payload);
  }
  CHECK(our_payloads == kubectl_sends);  // the same messages kubectl sent, byte for byte
}

TEST_CASE("ws client vs kubectl 1.33 vectors: exec with stdin, stdin close signal, exit 7") {
  ReplaySession("ws-v5-exec-stdin-exit7.kubectl-1.33");
}

TEST_CASE("ws client vs kubectl 1.33 vectors: exec success without stdin") {
  ReplaySession("ws-v5-exec-success.kubectl-1.33");
}

TEST_CASE("ws client vs kubectl 1.33 vectors: tty with resize messages, exit 5") {
  ReplaySession("ws-v5-exec-tty-resize-exit5.kubectl-1.33");
}

}  // namespace
}  // namespace kproxy
