// The access-proxy emulator: a Pomerium-compatible identity-aware proxy in front of the
// simulated API server. Programmatic login (/.pomerium/api/v1/login), a sign-in page that
// counts hits, HS256 session JWTs, per-route policy with Pomerium's denial formats, session
// revocation, and forwarding with the proxy's service-account token plus impersonation.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "tests/sim/fixture.h"
#include "tests/sim/server/http_server.h"

namespace kproxy::sim {

// Sessions and counters shared by every route of one proxy process.
class SessionStore {
 public:
  SessionStore();
  // A session JWT for `user` (claims iss/sub/aud/iat/jti/email/groups/gen/sn, no exp).
  std::string Mint(const User& user, const std::string& audience);
  // The claims of a live session, or an error (bad signature, revoked).
  Result<nlohmann::json> Check(const std::string& jwt);
  // Revokes one session (jti), every session of a user minted so far, or all (both empty).
  // Like Pomerium deleting sessions: the user may sign in again afterwards.
  int Revoke(const std::string& jti, const std::string& user);

  std::atomic<long> sign_in_page_hits{0};
  std::atomic<long> sign_ins{0};
  std::atomic<long> login_api_calls{0};
  std::atomic<long> forwarded{0};
  std::atomic<long> denied{0};
  std::atomic<long> unauthenticated{0};

 private:
  std::string secret_;
  std::mutex mu_;
  long generation_ = 1;
  long serial_ = 0;  // "sn" claim: mint order, so a user revocation spares later sessions
  std::set<std::string> revoked_jti_;
  std::map<std::string, long> revoked_users_;  // user → last serial revoked
};

struct UpstreamTarget {
  std::string host = "127.0.0.1";
  int port = 0;
  SSL_CTX* tls = nullptr;  // trusts the API server's CA; not owned
};

class AccessProxy {
 public:
  AccessProxy(const Fixture* fixture, ProxyRoute route, SessionStore* sessions,
              UpstreamTarget upstream);
  // This route's public URL ("https://127.0.0.1:PORT"), for sign-in URLs and JWT audiences.
  void set_public_url(std::string url) { public_url_ = std::move(url); }
  void set_stop_flag(const std::atomic<bool>* stop) { stop_ = stop; }

  HttpResponse Handle(const HttpRequest& req, const std::string& body, const RequestContext& ctx);

 private:
  HttpResponse LoginApi(const HttpRequest& req);
  HttpResponse SignIn(const HttpRequest& req, const std::string& body);
  HttpResponse Forward(const HttpRequest& req, const std::string& body,
                       const nlohmann::json& claims, const std::string& request_id);
  bool RedirectAllowed(const std::string& uri) const;
  bool PolicyAllows(const nlohmann::json& claims) const;

  const Fixture* fixture_;
  ProxyRoute route_;
  SessionStore* sessions_;
  UpstreamTarget upstream_;
  std::string public_url_;
  const std::atomic<bool>* stop_ = nullptr;
};

// The three Pomerium denial formats chosen from User-Agent/Accept (kubernetes/ → Status JSON
// without metadata; application/json → {"error":..,"request_id":..}; else intercepted HTML).
HttpResponse ProxyDenial(const HttpRequest& req, int status, const std::string& request_id);

}  // namespace kproxy::sim
