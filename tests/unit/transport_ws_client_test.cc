#include <doctest/doctest.h>
#include <libwebsockets.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/base/log.h"
#include "core/transport/event_loop.h"
#include "core/transport/ws_client.h"
#include "tests/unit/transport_test_support.h"

namespace kproxy {
namespace {

using std::chrono::milliseconds;

// ---------------------------------------------------------------------------------------
// A WebSocket server on libwebsockets' server side, in its own thread and lws context.
// Messages steer it: "close:N" closes with code N, "drop" cuts the TCP connection without a
// close frame, "fragments" answers with one message split into three frames, "text:x"
// answers x as a text frame; anything else is echoed as one binary frame.
class LwsTestServer {
 public:
  struct Seen {
    std::string protocol_header, chosen, authorization, user_agent, impersonate_user, extensions;
    std::vector<std::string> messages;
  };

  explicit LwsTestServer(std::vector<std::string> supported) : supported_(std::move(supported)) {
    protocols_.push_back({"http", lws_callback_http_dummy, 0, 0, 0, nullptr, 0});
    for (const auto& name : supported_)
      protocols_.push_back({name.c_str(), &LwsTestServer::Cb, sizeof(Session), 4096, 0, this, 0});
    protocols_.push_back({nullptr, nullptr, 0, 0, 0, nullptr, 0});
    lws_set_log_level(LLL_ERR, nullptr);  // quiet: the server context logs its banner
    cert_ = (test::Pki().dir / "server.crt").string();
    key_ = (test::Pki().dir / "server.key").string();
    lws_context_creation_info info;
    std::memset(&info, 0, sizeof info);
    info.port = 0;  // any free port
    info.iface = "127.0.0.1";
    info.protocols = protocols_.data();
    // No OS trust store: the server never dials out (and lws 4.1.6 leaks it on destroy).
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    info.ssl_cert_filepath = cert_.c_str();
    info.ssl_private_key_filepath = key_.c_str();
    info.user = this;
    ctx_ = lws_create_context(&info);
    if (!ctx_) return;
    port_ = lws_get_vhost_listen_port(lws_get_vhost_by_name(ctx_, "default"));
    thread_ = std::thread([this] {
      while (!stop_) lws_service(ctx_, 0);
    });
  }
  ~LwsTestServer() {
    stop_ = true;
    if (ctx_) {
      lws_cancel_service(ctx_);
      thread_.join();
      lws_context_destroy(ctx_);
    }
  }
  int port() const { return port_; }
  Seen seen() {
    std::lock_guard<std::mutex> l(mu_);
    return seen_;
  }

 private:
  struct Out {
    std::string bytes;
    int flags;
  };
  struct Session {
    std::string partial;
    std::deque<Out>* out;
  };

  static int Cb(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
    auto* self = static_cast<LwsTestServer*>(const_cast<void*>(lws_get_protocol(wsi)->user));
    auto* s = static_cast<Session*>(user);
    switch (reason) {
      case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        // The handshake headers are still readable here (not after ESTABLISHED in 4.1.6).
        char buf[512];
        std::lock_guard<std::mutex> l(self->mu_);
        auto copy = [&](lws_token_indexes t) {
          int n = lws_hdr_copy(wsi, buf, sizeof buf, t);
          return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
        };
        self->seen_.protocol_header = copy(WSI_TOKEN_PROTOCOL);
        self->seen_.chosen = lws_get_protocol(wsi)->name;
        self->seen_.authorization = copy(WSI_TOKEN_HTTP_AUTHORIZATION);
        self->seen_.user_agent = copy(WSI_TOKEN_HTTP_USER_AGENT);
        self->seen_.extensions = copy(WSI_TOKEN_EXTENSIONS);
        int n = lws_hdr_custom_copy(wsi, buf, sizeof buf, "impersonate-user:", 17);
        self->seen_.impersonate_user = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
        return 0;
      }
      case LWS_CALLBACK_ESTABLISHED:
        s->out = new std::deque<Out>();
        return 0;
      case LWS_CALLBACK_RECEIVE: {
        s->partial.append(static_cast<const char*>(in), len);
        if (!lws_is_final_fragment(wsi)) return 0;
        std::string m;
        m.swap(s->partial);
        {
          std::lock_guard<std::mutex> l(self->mu_);
          self->seen_.messages.push_back(m);
        }
        if (m.rfind("close:", 0) == 0) {
          lws_close_reason(wsi, static_cast<lws_close_status>(std::stoi(m.substr(6))),
                           reinterpret_cast<unsigned char*>(const_cast<char*>("bye")), 3);
          return -1;
        }
        if (m == "drop") {
          shutdown(lws_get_socket_fd(wsi), SHUT_RDWR);
          return -1;
        }
        if (m == "fragments") {
          s->out->push_back({"one-", LWS_WRITE_BINARY | LWS_WRITE_NO_FIN});
          s->out->push_back({"two-", LWS_WRITE_CONTINUATION | LWS_WRITE_NO_FIN});
          s->out->push_back({"three", LWS_WRITE_CONTINUATION});
        } else if (m.rfind("text:", 0) == 0) {
          s->out->push_back({m.substr(5), LWS_WRITE_TEXT});
        } else {
          s->out->push_back({m, LWS_WRITE_BINARY});
        }
        lws_callback_on_writable(wsi);
        return 0;
      }
      case LWS_CALLBACK_SERVER_WRITEABLE: {
        if (!s->out || s->out->empty()) return 0;
        Out o = std::move(s->out->front());
        s->out->pop_front();
        std::vector<unsigned char> buf(LWS_PRE + o.bytes.size());
        std::memcpy(buf.data() + LWS_PRE, o.bytes.data(), o.bytes.size());
        lws_write(wsi, buf.data() + LWS_PRE, o.bytes.size(),
                  static_cast<lws_write_protocol>(o.flags));
        if (!s->out->empty()) lws_callback_on_writable(wsi);
        return 0;
      }
      case LWS_CALLBACK_CLOSED:
        delete s->out;
        s->out = nullptr;
        return 0;
      default:
        return 0;
    }
  }

  std::vector<std::string> supported_;
  std::vector<lws_protocols> protocols_;
  std::string cert_, key_;
  lws_context* ctx_ = nullptr;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  Seen seen_;
};

// ---------------------------------------------------------------------------------------
// An independent response reader for refused upgrades (status line, headers, Content-Length
// or EOF-delimited body), standing in for core/transport/http_upgrade's parser.
class TestResponseReader : public ResponseReader {
 public:
  Progress Feed(std::string_view bytes) override {
    buf_.append(bytes);
    return Check(false);
  }
  Progress FinishAtEof() override { return Check(true); }
  RefusedResponse Take() override { return r_; }
  std::string ErrorText() const override { return error_; }

 private:
  Progress Check(bool eof) {
    size_t end = buf_.find("\r\n\r\n");
    if (end == std::string::npos) {
      error_ = "incomplete head";
      return eof ? Progress::kError : Progress::kNeedMore;
    }
    std::string head = buf_.substr(0, end);
    r_ = RefusedResponse();
    r_.status = std::stoi(head.substr(9, 3));
    size_t pos = head.find("\r\n");
    size_t content_length = std::string::npos;
    while (pos != std::string::npos && pos < head.size()) {
      size_t next = head.find("\r\n", pos + 2);
      std::string line =
          head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value[0] == ' ') value.erase(0, 1);
        if (name == "content-length") content_length = std::stoul(value);
        r_.headers.emplace_back(name, value);
      }
      pos = next;
    }
    std::string body = buf_.substr(end + 4);
    if (content_length != std::string::npos) {
      if (body.size() < content_length) return eof ? Progress::kError : Progress::kNeedMore;
      body.resize(content_length);
    } else if (!eof) {
      return Progress::kNeedMore;
    }
    r_.body = body;
    return Progress::kDone;
  }
  std::string buf_, error_;
  RefusedResponse r_;
};

int CountHeaderLines(const std::string& head, const std::string& name_lower) {
  int count = 0;
  std::string lower = head;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  size_t pos = 0;
  while ((pos = lower.find("\r\n" + name_lower + ":", pos)) != std::string::npos) {
    ++count;
    pos += 2;
  }
  return count;
}

using test::AcceptFor;
using test::HeaderValue;
using test::ReadHead;
using test::SslWriteAll;

WsClientOptions Options(int port) {
  WsClientOptions o;
  o.target.server.scheme = "https";
  o.target.server.host = "127.0.0.1";
  o.target.server.port = static_cast<uint16_t>(port);
  o.target.tls.ca_pem = test::Pki().ca_pem;
  o.target.timeout = milliseconds(5000);
  o.path_and_query = "/api/v1/namespaces/default/pods/web/exec?command=sh&stdin=true&stdout=true";
  o.subprotocols = {"v5.channel.k8s.io", "v4.channel.k8s.io"};
  o.headers = {{"Authorization", "Bearer secret-token"},
               {"Impersonate-User", "alice@example.com"},
               {"User-Agent", "kproxy/0.1.0 (linux/amd64) kubernetes/v1.33"}};
  return o;
}

struct Session {
  std::optional<std::string> opened;
  std::optional<WsConnectFailure> failed;
  std::vector<std::pair<std::string, bool>> messages;
  std::optional<Status> closed;
  std::unique_ptr<WsClient> client;

  void Connect(EventLoop& loop, WsClientOptions o) {
    client = WsClient::Connect(
        loop, std::move(o),
        {[this](const std::string& p) { opened = p; },
         [this](const WsConnectFailure& f) { failed = f; },
         [this](std::string_view m, bool bin) { messages.emplace_back(std::string(m), bin); },
         [this](Status s) { closed = s; }, nullptr});
  }
  bool WaitOpen(EventLoop& loop) {
    loop.RunUntil([&] { return opened.has_value() || failed.has_value(); }, milliseconds(8000));
    return opened.has_value();
  }
};

TEST_CASE("ws client: subprotocol choice, handshake headers, round trips and 100 KB messages") {
  REQUIRE(test::Pki().ok);
  LwsTestServer server({"v5.channel.k8s.io", "v4.channel.k8s.io"});
  REQUIRE(server.port() > 0);
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  Session s;
  s.Connect(**loop, Options(server.port()));
  REQUIRE(s.WaitOpen(**loop));
  CHECK(*s.opened == "v5.channel.k8s.io");
  CHECK(s.client->subprotocol() == "v5.channel.k8s.io");
  auto seen = server.seen();
  CHECK(seen.protocol_header == "v5.channel.k8s.io,v4.channel.k8s.io");
  CHECK(seen.authorization == "Bearer secret-token");
  CHECK(seen.impersonate_user == "alice@example.com");
  CHECK(seen.user_agent.find("kubernetes/") != std::string::npos);
  CHECK(seen.extensions.empty());  // no permessage-deflate

  std::string big(100 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i % 251);
  std::string small("\x00hello", 6);
  CHECK(s.client->Send(small));
  CHECK(s.client->Send(big));
  CHECK(s.client->BufferedBytes() == small.size() + big.size());
  CHECK((*loop)->RunUntil([&] { return s.messages.size() == 2; }, milliseconds(8000)));
  REQUIRE(s.messages.size() == 2);
  CHECK(s.messages[0].first == small);
  CHECK(s.messages[0].second);
  CHECK(s.messages[1].first == big);
  CHECK(s.client->BufferedBytes() == 0);

  // Fragmented server messages are reassembled; text frames are reported as text.
  s.client->Send("fragments");
  s.client->Send("text:plain");
  CHECK((*loop)->RunUntil([&] { return s.messages.size() == 4; }, milliseconds(5000)));
  REQUIRE(s.messages.size() == 4);
  CHECK(s.messages[2].first == "one-two-three");
  CHECK(s.messages[3].first == "plain");
  CHECK_FALSE(s.messages[3].second);

  // Close 1000 from the server is a normal end.
  s.client->Send("close:1000");
  CHECK((*loop)->RunUntil([&] { return s.closed.has_value(); }, milliseconds(5000)));
  REQUIRE(s.closed.has_value());
  CHECK(s.closed->ok());
  CHECK(s.client->peer_close_code() == 1000);
}

TEST_CASE("ws client: a server that only knows v4 gets v4") {
  REQUIRE(test::Pki().ok);
  LwsTestServer server({"v4.channel.k8s.io"});
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  Session s;
  s.Connect(**loop, Options(server.port()));
  REQUIRE(s.WaitOpen(**loop));
  CHECK(*s.opened == "v4.channel.k8s.io");
}

TEST_CASE("ws client: close codes other than 1000 and dropped connections are 'connection lost'") {
  REQUIRE(test::Pki().ok);
  LwsTestServer server({"v5.channel.k8s.io"});
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  {
    Session s;
    s.Connect(**loop, Options(server.port()));
    REQUIRE(s.WaitOpen(**loop));
    s.client->Send("close:1011");
    CHECK((*loop)->RunUntil([&] { return s.closed.has_value(); }, milliseconds(5000)));
    REQUIRE(s.closed.has_value());
    REQUIRE_FALSE(s.closed->ok());
    CHECK(s.closed->error().code == ErrorCode::kUnavailable);
    CHECK(s.closed->error().message.find("connection lost") != std::string::npos);
    CHECK(s.closed->error().message.find("1011") != std::string::npos);
  }
  {
    Session s;
    s.Connect(**loop, Options(server.port()));
    REQUIRE(s.WaitOpen(**loop));
    s.client->Send("drop");
    CHECK((*loop)->RunUntil([&] { return s.closed.has_value(); }, milliseconds(5000)));
    REQUIRE(s.closed.has_value());
    CHECK_FALSE(s.closed->ok());
    CHECK(s.closed->error().message.find("connection lost") != std::string::npos);
  }
  {
    // Our own close with 1000 ends cleanly.
    Session s;
    s.Connect(**loop, Options(server.port()));
    REQUIRE(s.WaitOpen(**loop));
    s.client->Send("last-1");
    s.client->Send(std::string("\xff\x00", 2));  // e.g. the v5 stdin close signal
    s.client->Close(1000);                       // goes out after everything queued before it
    CHECK_FALSE(s.client->Send("late"));
    CHECK((*loop)->RunUntil([&] { return s.closed.has_value(); }, milliseconds(5000)));
    REQUIRE(s.closed.has_value());
    CHECK(s.closed->ok());
    // The server thread may record the last message just after our close completed.
    for (int i = 0; i < 100 && server.seen().messages.size() < 4; ++i) usleep(10000);
    auto msgs = server.seen().messages;
    REQUIRE(msgs.size() >= 2);
    CHECK(msgs[msgs.size() - 2] == "last-1");
    CHECK(msgs.back() == std::string("\xff\x00", 2));
  }
}

TEST_CASE("ws client: pings keep a live peer; tls errors are dial failures") {
  REQUIRE(test::Pki().ok);
  LwsTestServer server({"v5.channel.k8s.io"});
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  Session s;
  auto o = Options(server.port());
  o.ping_interval = milliseconds(50);
  o.pong_timeout = milliseconds(700);  // generous: the machine is shared and may be slow
  s.Connect(**loop, o);
  REQUIRE(s.WaitOpen(**loop));
  (*loop)->RunUntil([] { return false; }, milliseconds(1600));  // >2x the pong deadline
  CHECK_FALSE(s.closed.has_value());
  CHECK(s.client->open());

  Session bad;
  auto wrong = Options(server.port());
  wrong.target.tls.ca_pem = test::Pki().other_ca_pem;
  bad.Connect(**loop, wrong);
  CHECK_FALSE(bad.WaitOpen(**loop));
  REQUIRE(bad.failed.has_value());
  CHECK_FALSE(bad.failed->refused.has_value());
  CHECK(bad.failed->error.code == ErrorCode::kUnavailable);
  CHECK(bad.failed->dial == DialFailure::kVerify);
  CHECK(bad.failed->error.message.find("certificate verify failed") != std::string::npos);
  CHECK(bad.failed->error.message.find("127.0.0.1:" + std::to_string(server.port())) !=
        std::string::npos);

  Session named;
  auto n = Options(server.port());
  n.target.tls.server_name = "kproxy.test";  // in the certificate: accepted
  named.Connect(**loop, n);
  CHECK(named.WaitOpen(**loop));

  Session mismatch;
  auto m = Options(server.port());
  m.target.tls.server_name = "not-in-the-cert.example";
  mismatch.Connect(**loop, m);
  CHECK_FALSE(mismatch.WaitOpen(**loop));
  REQUIRE(mismatch.failed.has_value());
  CHECK(mismatch.failed->error.message.find("hostname mismatch") != std::string::npos);
}

TEST_CASE("ws client: a refused upgrade reaches the caller with status, headers and body") {
  REQUIRE(test::Pki().ok);
  const std::string body =
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"web\" is forbidden: User \"alice\" cannot get resource \"pods/exec\"","reason":"Forbidden","code":403})";
  std::mutex mu;
  std::vector<std::string> requests;
  test::TestTlsServer server({}, [&](SSL* ssl, int) {
    std::string head = ReadHead(ssl);
    {
      std::lock_guard<std::mutex> l(mu);
      requests.push_back(head);
    }
    SslWriteAll(
        ssl,
        "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nX-Request-Id: req-42\r\n"
        "Content-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body);
  });
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  Session s;
  auto o = Options(server.port());
  o.refusal_reader = [] { return std::make_unique<TestResponseReader>(); };
  s.Connect(**loop, o);
  CHECK_FALSE(s.WaitOpen(**loop));
  REQUIRE(s.failed.has_value());
  const WsConnectFailure& f = *s.failed;
  CHECK(f.error.code == ErrorCode::kForbidden);
  CHECK(f.dial == DialFailure::kNone);
  REQUIRE(f.refused.has_value());
  CHECK(f.refused->status == 403);
  CHECK(f.body_captured);
  CHECK(f.refused->body == body);
  CHECK(f.refused->transport == Transport::kWebSocket);
  bool has_request_id = false;
  for (const auto& [k, v] : f.refused->headers)
    if (k == "x-request-id" && v == "req-42") has_request_id = true;
  CHECK(has_request_id);

  std::vector<std::string> heads;
  {
    std::lock_guard<std::mutex> l(mu);
    heads = requests;
  }
  REQUIRE(heads.size() == 2);  // lws's attempt and the identical re-issue
  for (const auto& head : heads) {
    CHECK(
        head.rfind("GET /api/v1/namespaces/default/pods/web/exec?command=sh&stdin=true&stdout=true "
                   "HTTP/1.1\r\n",
                   0) == 0);
    CHECK(CountHeaderLines(head, "sec-websocket-protocol") == 1);
    CHECK(HeaderValue(head, "sec-websocket-protocol") == "v5.channel.k8s.io,v4.channel.k8s.io");
    CHECK(CountHeaderLines(head, "sec-websocket-extensions") == 0);
    CHECK(CountHeaderLines(head, "user-agent") == 1);
    CHECK(HeaderValue(head, "authorization") == "Bearer secret-token");
    CHECK(HeaderValue(head, "impersonate-user") == "alice@example.com");
    CHECK(HeaderValue(head, "host") == "127.0.0.1:" + std::to_string(server.port()));
    CHECK(HeaderValue(head, "sec-websocket-version") == "13");
  }
  CHECK(server.offered_alpn() == "http/1.1");

  // The production reader (http_response_parser) gives the same result.
  Session prod;
  auto op = Options(server.port());
  prod.Connect(**loop, op);
  CHECK_FALSE(prod.WaitOpen(**loop));
  REQUIRE(prod.failed.has_value());
  REQUIRE(prod.failed->refused.has_value());
  CHECK(prod.failed->body_captured);
  CHECK(prod.failed->refused->status == 403);
  CHECK(prod.failed->refused->body == body);

  // Without a reader the status still arrives, the body is marked as not captured.
  Session plain;
  auto o2 = Options(server.port());
  o2.refusal_reader = nullptr;
  plain.Connect(**loop, o2);
  CHECK_FALSE(plain.WaitOpen(**loop));
  REQUIRE(plain.failed.has_value());
  REQUIRE(plain.failed->refused.has_value());
  CHECK(plain.failed->refused->status == 403);
  CHECK_FALSE(plain.failed->body_captured);
}

// A raw server: answers the upgrade itself (independent accept computation), then either
// stays silent (never answers pings) or picks a subprotocol the client never offered.
struct RawWsServer {
  std::string chosen_header;  // "" = no Sec-WebSocket-Protocol in the 101
  std::mutex mu;
  std::string first_frame;
  test::TestTlsServer server{{}, [this](SSL* ssl, int) {
                               std::string head = ReadHead(ssl);
                               std::string resp =
                                   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                   "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                                   AcceptFor(HeaderValue(head, "sec-websocket-key")) + "\r\n";
                               if (!chosen_header.empty())
                                 resp += "Sec-WebSocket-Protocol: " + chosen_header + "\r\n";
                               SslWriteAll(ssl, resp + "\r\n");
                               char buf[4096];
                               int n;
                               while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) {
                                 std::lock_guard<std::mutex> l(mu);
                                 if (first_frame.empty())
                                   first_frame.assign(buf, static_cast<size_t>(n));
                               }
                             }};
};

TEST_CASE("ws client: no pong within the deadline means a dead peer") {
  REQUIRE(test::Pki().ok);
  RawWsServer raw;
  raw.chosen_header = "v5.channel.k8s.io";
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  Session s;
  auto o = Options(raw.server.port());
  o.ping_interval = milliseconds(40);
  o.pong_timeout = milliseconds(200);
  s.Connect(**loop, o);
  REQUIRE(s.WaitOpen(**loop));
  s.client->Send(std::string("\x00ls\n", 4));
  auto start = EventLoop::Clock::now();
  CHECK((*loop)->RunUntil([&] { return s.closed.has_value(); }, milliseconds(5000)));
  CHECK(EventLoop::Clock::now() - start < milliseconds(2000));
  REQUIRE(s.closed.has_value());
  REQUIRE_FALSE(s.closed->ok());
  CHECK(s.closed->error().message.find("no pong") != std::string::npos);
  std::lock_guard<std::mutex> l(raw.mu);
  REQUIRE(raw.first_frame.size() >= 2);
  // RFC 6455 §5.2: FIN + binary opcode, masked, 4-byte payload in one frame.
  CHECK(static_cast<unsigned char>(raw.first_frame[0]) == 0x82);
  CHECK(static_cast<unsigned char>(raw.first_frame[1]) == (0x80 | 4));
}

TEST_CASE("ws client: a 101 with a missing or unoffered subprotocol is an upgrade failure") {
  REQUIRE(test::Pki().ok);
  for (const char* chosen : {"", "v9.channel.k8s.io"}) {
    RawWsServer raw;
    raw.chosen_header = chosen;
    auto loop = EventLoop::Create();
    REQUIRE(loop.ok());
    Session s;
    s.Connect(**loop, Options(raw.server.port()));
    CHECK_FALSE(s.WaitOpen(**loop));
    REQUIRE(s.failed.has_value());
    CHECK(s.failed->bad_subprotocol);
    CHECK(s.failed->error.code == ErrorCode::kUpgradeRejected);
  }
}

TEST_CASE(
    "ws client: through a CONNECT proxy with credentials; http_proxy env not obeyed blindly") {
  REQUIRE(test::Pki().ok);
  test::TinyProxy proxy("kuser kpass");
  REQUIRE(proxy.ready());
  LwsTestServer server({"v5.channel.k8s.io"});
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  RestConfig rc;
  rc.server = "https://localhost:" + std::to_string(server.port());
  rc.ca_data = test::Pki().ca_pem;
  rc.proxy_url = "http://kuser:kpass@127.0.0.1:" + std::to_string(proxy.port());
  auto t = DialTargetFromRestConfig(rc, [](const char*) -> const char* { return nullptr; });
  REQUIRE(t.ok());
  auto o = Options(server.port());
  o.target = *t;
  Session s;
  s.Connect(**loop, o);
  REQUIRE(s.WaitOpen(**loop));
  s.client->Send("via proxy");
  CHECK((*loop)->RunUntil([&] { return s.messages.size() == 1; }, milliseconds(5000)));
  REQUIRE(s.messages.size() == 1);
  CHECK(s.messages[0].first == "via proxy");

  // Wrong proxy credentials: the proxy refuses, nothing reaches the server.
  rc.proxy_url = "http://kuser:wrong@127.0.0.1:" + std::to_string(proxy.port());
  auto bad_target =
      DialTargetFromRestConfig(rc, [](const char*) -> const char* { return nullptr; });
  auto bo = Options(server.port());
  bo.target = *bad_target;
  Session bad;
  bad.Connect(**loop, bo);
  CHECK_FALSE(bad.WaitOpen(**loop));
  CHECK(bad.failed.has_value());

  // A direct decision stays direct although lws would read http_proxy on its own.
  setenv("http_proxy", "http://127.0.0.1:9", 1);  // discard port: nothing listens there
  Session direct;
  direct.Connect(**loop, Options(server.port()));
  bool opened = direct.WaitOpen(**loop);
  unsetenv("http_proxy");
  CHECK(opened);
}

TEST_CASE("ws client: dial failures are typed and name the server") {
  REQUIRE(test::Pki().ok);
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  {
    // A strict HTTP/2-only server refuses our lone "http/1.1" ALPN.
    test::TestTlsServer h2only({true, test::TestTlsServer::Alpn::kRefuse, false},
                               test::EchoHandler);
    Session s;
    s.Connect(**loop, Options(h2only.port()));
    CHECK_FALSE(s.WaitOpen(**loop));
    REQUIRE(s.failed.has_value());
    CHECK(s.failed->dial == DialFailure::kAlpnH2);
    CHECK(s.failed->error.code == ErrorCode::kUpgradeRejected);
    CHECK(h2only.offered_alpn() == "http/1.1");
  }
  {
    // A listener that never speaks TLS: the RestConfig deadline ends the attempt.
    int port = 0;
    int lfd = test::ListenLoopback(&port);
    auto o = Options(port);
    o.target.timeout = milliseconds(300);
    Session s;
    auto start = EventLoop::Clock::now();
    s.Connect(**loop, o);
    CHECK_FALSE(s.WaitOpen(**loop));
    CHECK(EventLoop::Clock::now() - start < milliseconds(3000));
    REQUIRE(s.failed.has_value());
    CHECK(s.failed->dial == DialFailure::kTimeout);
    CHECK(s.failed->error.code == ErrorCode::kTimeout);
    close(lfd);
  }
  {
    int port = 0;
    close(test::ListenLoopback(&port));  // nothing listens
    Session s;
    s.Connect(**loop, Options(port));
    CHECK_FALSE(s.WaitOpen(**loop));
    REQUIRE(s.failed.has_value());
    CHECK_FALSE(s.failed->refused.has_value());
    CHECK(s.failed->error.code == ErrorCode::kUnavailable);
    CHECK(s.failed->error.message.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
  }
  {
    auto o = Options(443);
    o.target.server.host = "no-such-host.invalid";
    Session s;
    s.Connect(**loop, o);
    CHECK_FALSE(s.WaitOpen(**loop));
    REQUIRE(s.failed.has_value());
    CHECK(s.failed->error.message.find("no-such-host.invalid") != std::string::npos);
    CHECK(s.failed->dial == DialFailure::kDns);
  }
}

TEST_CASE("ws client: insecure-skip-tls-verify accepts an unknown CA") {
  REQUIRE(test::Pki().ok);
  LwsTestServer server({"v5.channel.k8s.io"});
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  auto o = Options(server.port());
  o.target.tls.ca_pem = test::Pki().other_ca_pem;
  o.target.tls.insecure = true;
  Session s;
  s.Connect(**loop, o);
  CHECK(s.WaitOpen(**loop));
}

TEST_CASE("ws client: byte_stream delivers chunks as they come and coalesces queued sends") {
  REQUIRE(test::Pki().ok);
  LwsTestServer server({"v5.channel.k8s.io"});
  REQUIRE(server.port() > 0);
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  Session s;
  WsClientOptions o = Options(server.port());
  o.byte_stream = true;
  s.Connect(**loop, o);
  REQUIRE(s.WaitOpen(**loop));

  // A message in three frames arrives as three chunks: no reassembly.
  CHECK(s.client->Send("fragments"));
  CHECK((*loop)->RunUntil([&] { return s.messages.size() == 3; }, milliseconds(5000)));
  REQUIRE(s.messages.size() == 3);
  CHECK(s.messages[0].first == "one-");
  CHECK(s.messages[1].first == "two-");
  CHECK(s.messages[2].first == "three");
  CHECK(s.messages[2].second);
  s.messages.clear();

  // Sends queued before the socket was writable travel as one message (the server echoes
  // per message, so it sees and answers "abc" once).
  CHECK(s.client->Send("a"));
  CHECK(s.client->Send("b"));
  CHECK(s.client->Send("c"));
  CHECK(s.client->BufferedBytes() == 3);
  CHECK((*loop)->RunUntil([&] { return !s.messages.empty(); }, milliseconds(5000)));
  REQUIRE(s.messages.size() == 1);
  CHECK(s.messages[0].first == "abc");
  CHECK(s.client->BufferedBytes() == 0);
  s.messages.clear();

  // Coalescing stops at kMaxCoalescedBytes: two 40 KiB sends stay two messages, and the
  // bytes come back in order whatever the chunking.
  std::string first(40 * 1024, 'x'), second(40 * 1024, 'y');
  CHECK(s.client->Send(first));
  CHECK(s.client->Send(second));
  auto received = [&] {
    size_t n = 0;
    for (const auto& m : s.messages) n += m.first.size();
    return n;
  };
  CHECK((*loop)->RunUntil([&] { return received() == first.size() + second.size(); },
                          milliseconds(8000)));
  std::string all;
  for (const auto& m : s.messages) all += m.first;
  CHECK(all == first + second);
  auto seen = server.seen();
  REQUIRE(seen.messages.size() == 4);  // "fragments", "abc", first, second
  CHECK(seen.messages[1] == "abc");
  CHECK(seen.messages[2] == first);
  CHECK(seen.messages[3] == second);
}

}  // namespace
}  // namespace kproxy
