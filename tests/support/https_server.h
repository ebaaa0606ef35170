// A small threaded HTTPS/1.1 test peer on 127.0.0.1:0 (OpenSSL): records every request and
// answers with scripted responses. A unit-test peer only; the cluster simulator is tests/sim.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/test_pki.h"

namespace kproxy::test {

struct RecordedRequest {
  std::string method;
  std::string target;  // as on the request line: "/api/v1/pods?limit=1"
  std::vector<std::pair<std::string, std::string>> headers;  // in order, names as sent
  std::string body;
  std::string peer_subject;  // client certificate subject ("/O=developers/CN=jane"), "" if none
  std::string sni;           // TLS server name the client sent, "" if none
  // Every value of a header (case-insensitive name), in order.
  std::vector<std::string> HeaderValues(std::string_view name) const;
  // First value or "".
  std::string Header(std::string_view name) const;
};

struct ScriptedResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds delay{0};  // wait before answering (timeout tests)
};

struct HttpsServerOptions {
  PemPair certificate = TestPki::Get().server;
  std::string client_ca;             // PEM; non-empty = ask for a client certificate
  bool require_client_cert = false;  // handshake fails without a valid client certificate
};

class HttpsServer {
 public:
  using Handler = std::function<ScriptedResponse(const RecordedRequest&)>;

  // Listens on 127.0.0.1:0 and serves until destroyed. Throws std::runtime_error on failure.
  HttpsServer(HttpsServerOptions options, Handler handler);
  ~HttpsServer();
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  int port() const { return port_; }
  std::string url() const;  // "https://127.0.0.1:<port>"
  std::vector<RecordedRequest> requests() const;
  // Handshakes that failed (e.g. the client rejected our certificate).
  int failed_handshakes() const { return failed_handshakes_.load(); }

 private:
  void AcceptLoop();
  void Serve(int fd);

  Handler handler_;
  void* ctx_ = nullptr;  // SSL_CTX*
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> failed_handshakes_{0};
  mutable std::mutex mu_;
  std::vector<RecordedRequest> requests_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

}  // namespace kproxy::test
