// The simulator's HTTP server in-process: the upgrade hook (takeover) receives the connection
// and the bytes read past the request, keep-alive, chunked streaming, TLS with ALPN.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "tests/sim/server/http_server.h"
#include "tests/sim/server/tls_context.h"
#include "tests/support/sim_process.h"

namespace kproxy::sim {

namespace {

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  timeval tv{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Reads until `want` appears or the peer closes.
std::string ReadUntil(int fd, const std::string& want) {
  std::string got;
  char buf[4096];
  while (got.find(want) == std::string::npos) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, n);
  }
  return got;
}

HttpResponse TestHandler(const HttpRequest& req, const std::string& body, const RequestContext&) {
  HttpResponse r;
  if (req.path == "/upgrade") {
    // The streaming layer's shape: write the 101 itself, then speak the new protocol.
    r.takeover = [](Conn& conn, std::string already) {
      conn.WriteAll(
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n");
      conn.WriteAll("early:" + already + "|");
      char buf[256];
      ssize_t n = conn.Read(buf, sizeof buf, 2000);
      if (n > 0) conn.WriteAll("echo:" + std::string(buf, n) + "|");
    };
  } else if (req.path == "/stream") {
    r.streamer = [](ChunkWriter& w) {
      w.Write("one,");
      w.Write("two");
    };
  } else {
    r.body = req.method + " " + req.path + " body=" + body;
  }
  return r;
}

}  // namespace

TEST_CASE("sim http server: takeover gets the connection and the bytes read past the request") {
  HttpServer server(ServerOptions{}, TestHandler);
  auto port = server.Start();
  REQUIRE(port.ok());
  int fd = Connect(*port);
  std::string req =
      "GET /upgrade HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nEARLY";
  REQUIRE(write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size()));
  std::string got = ReadUntil(fd, "|");
  CHECK(got.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0) == 0);
  CHECK(got.find("early:EARLY|") != std::string::npos);
  REQUIRE(write(fd, "later", 5) == 5);
  CHECK(ReadUntil(fd, "echo:later|").find("echo:later|") != std::string::npos);
  close(fd);
  server.Stop();
}

TEST_CASE("sim http server: keep-alive with bodies, chunked streaming, Connection: close") {
  HttpServer server(ServerOptions{}, TestHandler);
  auto port = server.Start();
  REQUIRE(port.ok());
  int fd = Connect(*port);
  std::string reqs =
      "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
      "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  // One byte at a time: the server must assemble heads and bodies across reads.
  for (char c : reqs) REQUIRE(write(fd, &c, 1) == 1);
  std::string got = ReadUntil(fd, "GET /b body=");
  CHECK(got.find("Content-Length: 16\r\n\r\nPOST /a body=abc") != std::string::npos);
  CHECK(got.find("Transfer-Encoding: chunked\r\n\r\n4\r\none,\r\n3\r\ntwo\r\n0\r\n\r\n") !=
        std::string::npos);
  CHECK(got.find("Connection: close") != std::string::npos);
  char extra;
  CHECK(read(fd, &extra, 1) == 0);  // closed after the last response
  close(fd);
  server.Stop();
  CHECK(server.active_connections() == 0);
}

TEST_CASE("sim http server: TLS with generated PKI and ALPN http/1.1") {
  auto pki = GeneratePki();
  REQUIRE(pki.ok());
  auto ctx = MakeServerContext(*pki, AlpnMode::kHttp11);
  REQUIRE(ctx.ok());
  ServerOptions opts;
  opts.tls = *ctx;
  HttpServer server(opts, TestHandler);
  auto port = server.Start();
  REQUIRE(port.ok());
  auto r = test::RawTls(*port, pki->ca_cert_pem, "h2,http/1.1",
                        "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(r.handshake_ok);  // the certificate verifies for 127.0.0.1 against the generated CA
  CHECK(r.selected_alpn == "http/1.1");
  CHECK(r.received.find("GET /x body=") != std::string::npos);
  auto other = GeneratePki();
  CHECK_FALSE(test::RawTls(*port, other->ca_cert_pem, "", "").handshake_ok);  // wrong CA
  server.Stop();
  SSL_CTX_free(*ctx);
}

}  // namespace kproxy::sim
