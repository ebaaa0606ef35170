// TlsConnection's batched data path under back-pressure: OpenSSL read-ahead may hold whole
// records the socket no longer signals, and outgoing records are batched before send().
// Bulk echo with reading paused after every delivery must still end complete and in order.
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>

#include "core/transport/event_loop.h"
#include "core/transport/tls_connection.h"
#include "tests/unit/transport_test_support.h"

namespace kproxy {
namespace {

using std::chrono::milliseconds;

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131) ^ (i >> 12));
  return s;
}

}  // namespace

TEST_CASE("tls connection: 8 MiB echo with reading paused after every delivery") {
  REQUIRE(test::Pki().ok);
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  test::TestTlsServer server({}, test::EchoHandler);
  DialTarget t = test::TlsTarget(server.port(), "https", "localhost");
  std::string payload = Pattern(8 << 20);
  std::string received;
  std::optional<Status> connected, closed;
  int pauses = 0, drained = 0;
  std::unique_ptr<TlsConnection> conn;
  conn = TlsConnection::Dial(**loop, t,
                             {[&](Status s) { connected = s; },
                              [&](std::string_view b) {
                                received.append(b);
                                // Back-pressure as a blocked stdout applies it: stop, resume on a
                                // later turn.
                                conn->SetReading(false);
                                ++pauses;
                                (*loop)->AddTimer(milliseconds(1), [&] { conn->SetReading(true); });
                              },
                              [&](Status s) { closed = s; }, [&] { ++drained; }});
  REQUIRE(conn);
  // Written in pieces, as a session flushes frames, partly while still dialing.
  for (size_t off = 0; off < payload.size(); off += 300 * 1024)
    conn->Write(std::string_view(payload).substr(off, 300 * 1024));
  CHECK((*loop)->RunUntil([&] { return received.size() >= payload.size() || closed.has_value(); },
                          milliseconds(20000)));
  REQUIRE(connected.has_value());
  CHECK(connected->ok());
  CHECK_FALSE(closed.has_value());
  CHECK(received.size() == payload.size());
  CHECK(received == payload);
  CHECK(pauses > 1);
  CHECK(conn->BufferedBytes() == 0);
  CHECK(drained >= 1);
  conn->Close();
}

TEST_CASE("tls connection: records read ahead before a pause are delivered after resuming") {
  // The server sends one burst and then goes quiet, so whatever OpenSSL read ahead is not
  // signalled by the socket again. Burst sizes around the 256 KiB gathering buffer leave a
  // tail inside OpenSSL when reading pauses; resuming must deliver it.
  REQUIRE(test::Pki().ok);
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  for (size_t size = 250 * 1024; size <= 330 * 1024; size += 8 * 1024) {
    CAPTURE(size);
    std::string burst = Pattern(size);
    test::TestTlsServer server({}, [&](SSL* ssl, int) {
      test::SslWriteAll(ssl, burst);
      char c;
      (void)SSL_read(ssl, &c, 1);  // quiet until the client closes (or the 5 s timeout)
    });
    DialTarget t = test::TlsTarget(server.port(), "https", "localhost");
    std::string received;
    std::unique_ptr<TlsConnection> conn;
    conn = TlsConnection::Dial(**loop, t,
                               {[&](Status s) {
                                  if (!s.ok()) return;
                                  // Let the whole burst arrive before the first read.
                                  conn->SetReading(false);
                                  (*loop)->AddTimer(milliseconds(100), [&] {
                                    if (conn) conn->SetReading(true);
                                  });
                                },
                                [&](std::string_view b) {
                                  received.append(b);
                                  conn->SetReading(false);
                                  (*loop)->AddTimer(milliseconds(1), [&] {
                                    if (conn) conn->SetReading(true);
                                  });
                                },
                                nullptr, nullptr});
    REQUIRE(conn);
    CHECK((*loop)->RunUntil([&] { return received.size() >= burst.size(); }, milliseconds(3000)));
    CHECK(received == burst);
    conn->Close();
    conn.reset();
    (*loop)->RunUntil([] { return false; }, milliseconds(5));  // let timers that hold conn fire
  }
}

TEST_CASE("tls connection: WriteSwap hands a buffer over without losing queued bytes") {
  REQUIRE(test::Pki().ok);
  auto loop = EventLoop::Create();
  REQUIRE(loop.ok());
  test::TestTlsServer server({}, test::EchoHandler);
  DialTarget t = test::TlsTarget(server.port(), "https", "localhost");
  std::string received;
  auto conn = TlsConnection::Dial(
      **loop, t, {nullptr, [&](std::string_view b) { received.append(b); }, nullptr, nullptr});
  REQUIRE(conn);
  std::string a = "first:" + Pattern(100000), b = "second:" + Pattern(5000);
  std::string buf = a;
  CHECK(conn->WriteSwap(buf));  // nothing queued: taken whole
  CHECK(buf.empty());
  buf = b;
  CHECK(conn->WriteSwap(buf));  // appended behind the first
  CHECK(buf.empty());
  CHECK(conn->Write("third"));
  CHECK((*loop)->RunUntil([&] { return received.size() >= a.size() + b.size() + 5; },
                          milliseconds(8000)));
  CHECK(received == a + b + "third");
  conn->Close();
}

}  // namespace kproxy
