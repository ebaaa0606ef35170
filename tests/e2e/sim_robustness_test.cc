// Garbage, split, oversized, half-open and flooding clients never crash the simulator, and it
// keeps serving everyone else.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "tests/support/sim_process.h"

namespace kproxy::test {

namespace {

int ConnectRaw(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool Healthy(SimProcess& sim) {
  return sim.Alive() && HttpsRequest(sim.ca_pem(), "GET", sim.api_url() + "/version",
                                     {"Authorization: Bearer alice-token"})
                                .status == 200;
}

}  // namespace

TEST_SUITE("e2e.sim") {
  TEST_CASE("sim robustness: garbage and malformed requests") {
    SimOptions opts;
    std::string err;
    auto sim = SimProcess::Start(opts, &err);
    REQUIRE_MESSAGE(sim, err);
    int port = sim->api_port();
    std::string ca = sim->ca_pem();
    std::mt19937 rng(1234);
    for (int i = 0; i < 20; ++i) {
      std::string junk(200 + i * 50, '\0');
      for (char& c : junk) c = static_cast<char>(rng());
      RawReply r = RawTls(port, ca, "http/1.1", junk, 0, 1000);
      CHECK(r.handshake_ok);
      if (!r.received.empty()) CHECK(r.received.rfind("HTTP/1.1 4", 0) == 0);
    }
    // Not TLS at all on the TLS port.
    int fd = ConnectRaw(port);
    REQUIRE(fd >= 0);
    CHECK(write(fd, "GET / HTTP/1.1\r\n\r\n", 18) == 18);
    char buf[256];
    (void)!read(fd, buf, sizeof buf);
    close(fd);

    auto status_of = [&](const std::string& req) {
      RawReply r = RawTls(port, ca, "http/1.1", req, 0, 2000);
      return r.received.substr(0, 12);
    };
    CHECK(status_of("GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(20000, 'a') + "\r\n\r\n") ==
          "HTTP/1.1 431");
    CHECK(status_of("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n") ==
          "HTTP/1.1 413");
    CHECK(status_of("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n") == "HTTP/1.1 400");
    CHECK(status_of(
              "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab") ==
          "HTTP/1.1 400");
    CHECK(status_of("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") ==
          "HTTP/1.1 501");
    CHECK(status_of("BREW /pot HTCPCP/1.0\r\n\r\n") == "HTTP/1.1 400");
    // One byte at a time is still one request.
    RawReply slow =
        RawTls(port, ca, "http/1.1",
               "GET /version HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alice-token\r\n"
               "Connection: close\r\n\r\n",
               1, 3000);
    CHECK(slow.received.rfind("HTTP/1.1 200 OK", 0) == 0);
    CHECK(Healthy(*sim));
    // The access proxy takes the same garbage.
    int proxy_port = sim->info()["proxies"][0]["port"];
    for (int i = 0; i < 5; ++i) {
      std::string junk(500, '\0');
      for (char& c : junk) c = static_cast<char>(rng());
      RawTls(proxy_port, ca, "http/1.1", junk, 0, 1000);
    }
    CHECK(HttpsRequest(ca, "GET", sim->proxy_url() + "/ping").status == 200);
    CHECK(sim->Stop());  // clean exit status after all that
  }

  TEST_CASE(
      "sim robustness: half-open and idle connections do not block others; floods are capped") {
    std::string err;
    auto sim = SimProcess::Start(SimOptions{}, &err);
    REQUIRE_MESSAGE(sim, err);
    int port = sim->api_port();
    std::vector<int> idle;
    for (int i = 0; i < 100; ++i) {
      int fd = ConnectRaw(port);
      if (fd >= 0) idle.push_back(fd);
    }
    // A half-sent request head on a TLS connection, left hanging.
    std::thread half([&] {
      RawTls(port, sim->ca_pem(), "http/1.1", "GET /version HTTP/1.1\r\nHost: x\r\n", 0, 1500);
    });
    CHECK(idle.size() == 100);
    CHECK(Healthy(*sim));
    half.join();
    // A flood beyond the connection cap: excess connections are closed, nothing crashes.
    for (int i = 0; i < 250; ++i) {
      int fd = ConnectRaw(port);
      if (fd >= 0) idle.push_back(fd);
    }
    for (int fd : idle) close(fd);
    bool healthy = false;
    for (int i = 0; i < 50 && !healthy; ++i) {
      healthy = Healthy(*sim);
      if (!healthy) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(healthy);
    CHECK(sim->Stop());
  }
}

}  // namespace kproxy::test
