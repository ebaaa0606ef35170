// Test doubles for the access-proxy login (auth.md §4), independent of kproxy's own code:
// - FakeAccessProxy: a tiny loopback HTTP server speaking the Pomerium programmatic-login
//   endpoints (/.pomerium/api/v1/login, a sign-in page that redirects to the callback with
//   pomerium_jwt appended, /.pomerium/user, and an /api/ route that needs the session);
// - RawHttp: a minimal HTTP/1.1 client on raw sockets (the "browser"), loopback only;
// - WriteFakeBrowserScript: a shell script for --browser-cmd that follows the sign-in URL to
//   the callback with curl and logs each URL it was asked to open.
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

struct ssl_ctx_st;

namespace kproxy::test {

// Unsigned test JWT "h.p.sig" from a JSON payload, with an independent base64url encoder.
std::string MakeTestJwt(const std::string& payload_json);
std::string Base64UrlForTest(const std::string& bytes);

struct RawHttpResponse {
  int status = 0;                              // 0 = connection failed
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// One request to http://127.0.0.1:PORT/...; `extra_headers` are raw "Name: value" lines.
RawHttpResponse RawHttp(const std::string& method, const std::string& url,
                        const std::vector<std::string>& extra_headers = {});

class FakeAccessProxy {
 public:
  // Starts listening on 127.0.0.1:0 in a thread; with `tls`, HTTPS with a fresh self-signed
  // certificate for 127.0.0.1 (ca_pem()), as kubectl only runs exec plugins over TLS.
  explicit FakeAccessProxy(bool tls = false);
  ~FakeAccessProxy();
  FakeAccessProxy(const FakeAccessProxy&) = delete;
  FakeAccessProxy& operator=(const FakeAccessProxy&) = delete;

  std::string url() const;  // http(s)://127.0.0.1:PORT
  const std::string& ca_pem() const { return ca_pem_; }
  struct Peer;
  int port() const { return port_; }

  // Status the login endpoint answers with (200 = sign-in URL).
  void set_login_status(int status) { login_status_ = status; }
  // The sign-in page answers 302 to the redirect URI + "&pomerium_jwt=<jwt>".
  void set_jwt_exp(long long exp) { jwt_exp_ = exp; }
  // Makes a session invalid (401 from /.pomerium/user and /api/).
  void Revoke(const std::string& jwt);

  int login_hits() const { return login_hits_; }
  int sign_in_hits() const { return sign_in_hits_; }
  int probe_hits() const { return probe_hits_; }
  int api_hits() const { return api_hits_; }
  bool login_saw_authorization() const { return login_saw_auth_; }
  std::string last_redirect_uri() const;
  std::vector<std::string> issued() const;  // JWTs handed out, in order

 private:
  void Serve();
  void Handle(Peer& peer);
  void SetUpTls();

  ssl_ctx_st* tls_ctx_ = nullptr;
  std::string ca_pem_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> login_status_{200};
  std::atomic<long long> jwt_exp_{0};
  std::atomic<int> login_hits_{0}, sign_in_hits_{0}, probe_hits_{0}, api_hits_{0};
  std::atomic<bool> login_saw_auth_{false};
  mutable std::mutex mu_;
  std::string last_redirect_uri_;
  std::vector<std::string> issued_;
  std::set<std::string> valid_;
};

// Writes an executable script: appends "$1" to `log_file`, then follows it with curl -L
// (sign-in page → 302 → kproxy's loopback callback). Returns the script path.
std::filesystem::path WriteFakeBrowserScript(const std::filesystem::path& dir,
                                             const std::filesystem::path& log_file);

}  // namespace kproxy::test
