#include "tests/sim/proxy/access_proxy.h"

#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "tests/sim/proxy/jwt.h"
#include "tests/sim/proxy/relay.h"

namespace kproxy::sim {

namespace {

using nlohmann::json;

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes));
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

HttpResponse Text(int status, const std::string& text) {
  HttpResponse r;
  r.status = status;
  r.body = text;
  r.Header("Content-Type", "text/plain; charset=utf-8");
  return r;
}

HttpResponse JsonResp(int status, const json& j) {
  HttpResponse r;
  r.status = status;
  r.body = j.dump() + "\n";
  r.Header("Content-Type", "application/json");
  return r;
}

// The host of an absolute http(s) URL, or "" when it is not one.
std::string UrlHost(const std::string& uri) {
  size_t scheme_end = uri.find("://");
  if (scheme_end == std::string::npos) return "";
  std::string scheme = ToLower(uri.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") return "";
  size_t start = scheme_end + 3;
  size_t end = uri.find_first_of("/?#", start);
  std::string authority =
      uri.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (authority.find('@') != std::string::npos) return "";  // no userinfo tricks
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    return close == std::string::npos ? "" : authority.substr(1, close - 1);
  }
  return ToLower(authority.substr(0, authority.find(':')));
}

std::string SessionToken(const HttpRequest& req) {
  std::string auth = req.Header("authorization");
  const std::string prefix = "bearer pomerium-";
  if (auth.size() > prefix.size() && ToLower(auth.substr(0, prefix.size())) == prefix) {
    return auth.substr(prefix.size());
  }
  return "";
}

std::string SignInPage(const std::string& redirect, const std::string& error) {
  std::string html =
      "<!DOCTYPE html><html><head><title>Sign in - kproxy-sim access proxy</title></head><body>"
      "<h1>Sign in</h1>";
  if (!error.empty()) html += "<p class=\"error\">" + HtmlEscape(error) + "</p>";
  html +=
      "<form method=\"POST\" action=\"/.pomerium/sign_in\">"
      "<input type=\"hidden\" name=\"pomerium_redirect_uri\" value=\"" +
      HtmlEscape(redirect) +
      "\"><label>User <input name=\"user\"></label>"
      "<label>Password <input name=\"password\" type=\"password\"></label>"
      "<button type=\"submit\">Sign in</button></form></body></html>\n";
  return html;
}

}  // namespace

SessionStore::SessionStore() : secret_(RandomHex(32)) {}

std::string SessionStore::Mint(const User& user, const std::string& audience) {
  long gen, serial;
  {
    std::lock_guard<std::mutex> lock(mu_);
    gen = generation_;
    serial = ++serial_;
  }
  json claims = {{"iss", audience},       {"sub", user.name},
                 {"aud", audience},       {"iat", static_cast<long>(time(nullptr))},
                 {"jti", RandomHex(16)},  {"email", user.email},
                 {"groups", user.groups}, {"gen", gen},
                 {"sn", serial}};
  return SignJwt(claims, secret_);
}

Result<json> SessionStore::Check(const std::string& jwt) {
  auto claims = VerifyJwt(jwt, secret_);
  if (!claims) return claims.error();
  std::lock_guard<std::mutex> lock(mu_);
  const json& c = *claims;
  if (!c.contains("gen") || !c["gen"].is_number_integer() || c["gen"].get<long>() != generation_ ||
      !c.contains("jti") || !c["jti"].is_string() || !c.contains("sub") || !c["sub"].is_string() ||
      !c.contains("sn") || !c["sn"].is_number_integer() ||
      revoked_jti_.count(c["jti"].get<std::string>())) {
    return MakeError(ErrorCode::kUnauthenticated, "session revoked");
  }
  if (auto it = revoked_users_.find(c["sub"].get<std::string>());
      it != revoked_users_.end() && c["sn"].get<long>() <= it->second) {
    return MakeError(ErrorCode::kUnauthenticated, "session revoked");
  }
  return claims;
}

int SessionStore::Revoke(const std::string& jti, const std::string& user) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!jti.empty()) revoked_jti_.insert(jti);
  if (!user.empty()) revoked_users_[user] = serial_;
  if (jti.empty() && user.empty()) {
    ++generation_;  // every session minted so far dies
    revoked_users_.clear();
  }
  return 1;
}

HttpResponse ProxyDenial(const HttpRequest& req, int status, const std::string& request_id) {
  const char* word = status == 401 ? "Unauthorized" : "Forbidden";
  if (req.Header("user-agent").find("kubernetes/") != std::string::npos) {
    // Pomerium's Kubernetes-shaped error: a Status without metadata, message just the word.
    json j = {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
              {"message", word},  {"reason", word},     {"code", status}};
    return JsonResp(status, j);
  }
  if (req.Header("accept").find("application/json") != std::string::npos) {
    return JsonResp(status, {{"error", word}, {"request_id", request_id}});
  }
  HttpResponse r;
  r.status = status;
  r.body = "<!DOCTYPE html><html><head><title>" + std::to_string(status) + " " + word +
           "</title></head><body><h1>" + word + "</h1><p>Request ID: " + request_id +
           "</p></body></html>\n";
  r.Header("Content-Type", "text/html; charset=UTF-8");
  r.Header("x-pomerium-intercepted-response", "true");
  return r;
}

AccessProxy::AccessProxy(const Fixture* fixture, ProxyRoute route, SessionStore* sessions,
                         UpstreamTarget upstream)
    : fixture_(fixture), route_(std::move(route)), sessions_(sessions), upstream_(upstream) {}

bool AccessProxy::RedirectAllowed(const std::string& uri) const {
  std::string host = UrlHost(uri);
  if (host.empty()) return false;
  for (const std::string& h : fixture_->proxy.allowed_redirect_hosts)
    if (host == ToLower(h)) return true;
  return false;
}

bool AccessProxy::PolicyAllows(const json& claims) const {
  std::string user = claims.value("sub", "");
  for (const std::string& u : route_.allowed_users)
    if (u == "*" || u == user) return true;
  if (claims.contains("groups") && claims["groups"].is_array()) {
    for (const auto& g : claims["groups"]) {
      if (!g.is_string()) continue;
      for (const std::string& allowed : route_.allowed_groups)
        if (allowed == g.get<std::string>()) return true;
    }
  }
  return false;
}

HttpResponse AccessProxy::Handle(const HttpRequest& req, const std::string& body,
                                 const RequestContext&) {
  std::string request_id = RandomHex(16);
  HttpResponse resp;
  const std::string& path = req.path;
  if (path == "/healthz" || path == "/ping") {
    resp = Text(200, "OK\n");  // answered by the proxy itself, whatever the token
  } else if (path == "/.sim/stats") {
    resp = JsonResp(200, {{"signInPageHits", sessions_->sign_in_page_hits.load()},
                          {"signIns", sessions_->sign_ins.load()},
                          {"loginApiCalls", sessions_->login_api_calls.load()},
                          {"forwarded", sessions_->forwarded.load()},
                          {"denied", sessions_->denied.load()},
                          {"unauthenticated", sessions_->unauthenticated.load()},
                          {"route", route_.name}});
  } else if (path == "/.sim/revoke") {
    if (req.method != "POST") {
      resp = Text(405, "method not allowed\n");
    } else {
      json in = body.empty() ? json::object() : json::parse(body, nullptr, false);
      if (!in.is_object()) {
        resp = Text(400, "body must be a JSON object\n");
      } else {
        sessions_->Revoke(in.value("jti", ""), in.value("user", ""));
        resp = JsonResp(200, {{"revoked", true}});
      }
    }
  } else if (path == "/.pomerium/api/v1/login") {
    resp = LoginApi(req);
  } else if (path == "/.pomerium/sign_in") {
    resp = SignIn(req, body);
  } else if (path.rfind("/.pomerium/", 0) == 0 || path == "/.pomerium") {
    if (path == "/.pomerium/user" || path == "/.pomerium/user/") {
      auto claims = sessions_->Check(SessionToken(req));
      if (!claims) {
        ++sessions_->unauthenticated;
        resp = ProxyDenial(req, 401, request_id);
      } else {
        resp = JsonResp(200, {{"id", (*claims)["sub"]},
                              {"user", (*claims)["sub"]},
                              {"email", claims->value("email", "")},
                              {"groups", claims->value("groups", json::array())},
                              {"session_id", (*claims)["jti"]}});
      }
    } else {
      resp = Text(404, "404 page not found\n");
    }
  } else {
    auto claims = sessions_->Check(SessionToken(req));
    if (!claims) {
      ++sessions_->unauthenticated;
      bool programmatic = req.Header("user-agent").find("kubernetes/") != std::string::npos ||
                          req.Header("accept").find("application/json") != std::string::npos ||
                          req.HasHeader("authorization");
      if (programmatic) {
        resp = ProxyDenial(req, 401, request_id);
      } else {
        // A browser without a session goes to the sign-in page.
        resp.status = 302;
        resp.Header("Location", public_url_ + "/.pomerium/sign_in?pomerium_redirect_uri=" +
                                    QueryEscape(public_url_ + req.target));
      }
    } else if (!PolicyAllows(*claims)) {
      ++sessions_->denied;
      resp = ProxyDenial(req, 403, request_id);
    } else {
      std::string upgrade = ToLower(req.Header("upgrade"));
      bool ws = upgrade == "websocket";
      bool spdy = upgrade.rfind("spdy/", 0) == 0;
      if ((ws && !route_.allow_websocket) || (spdy && !route_.allow_spdy)) {
        ++sessions_->denied;
        resp.status = 403;  // the route refuses this upgrade type: a bare 403
      } else {
        ++sessions_->forwarded;
        return Forward(req, body, *claims, request_id);
      }
    }
  }
  resp.Header("x-request-id", request_id);
  if (req.HasHeader("upgrade")) resp.close = true;
  return resp;
}

HttpResponse AccessProxy::LoginApi(const HttpRequest& req) {
  if (req.method != "GET") return Text(405, "method not allowed\n");
  ++sessions_->login_api_calls;
  std::string redirect = req.Query("pomerium_redirect_uri");
  if (redirect.empty()) return Text(400, "pomerium_redirect_uri is required\n");
  if (!RedirectAllowed(redirect)) return Text(400, "invalid redirect uri\n");
  return Text(200,
              public_url_ + "/.pomerium/sign_in?pomerium_redirect_uri=" + QueryEscape(redirect));
}

HttpResponse AccessProxy::SignIn(const HttpRequest& req, const std::string& body) {
  if (req.method == "GET") {
    ++sessions_->sign_in_page_hits;
    std::string redirect = req.Query("pomerium_redirect_uri");
    if (!RedirectAllowed(redirect)) return Text(400, "invalid redirect uri\n");
    HttpResponse r;
    r.body = SignInPage(redirect, "");
    r.Header("Content-Type", "text/html; charset=UTF-8");
    return r;
  }
  if (req.method != "POST") return Text(405, "method not allowed\n");
  std::vector<std::pair<std::string, std::string>> form;
  if (!ParseQuery(body, &form)) return Text(400, "malformed form\n");
  auto field = [&](const char* name) {
    for (const auto& [k, v] : form)
      if (k == name) return v;
    return std::string();
  };
  std::string redirect = field("pomerium_redirect_uri");
  if (!RedirectAllowed(redirect)) return Text(400, "invalid redirect uri\n");
  const User* user = fixture_->FindUser(field("user"));
  if (!user || user->password.empty() || user->password != field("password")) {
    HttpResponse r;
    r.status = 401;
    r.body = SignInPage(redirect, "Invalid user or password.");
    r.Header("Content-Type", "text/html; charset=UTF-8");
    return r;
  }
  ++sessions_->sign_ins;
  std::string jwt = sessions_->Mint(*user, public_url_);
  // The original query is kept; pomerium_jwt is appended (before any fragment).
  std::string base = redirect, fragment;
  if (size_t hash = base.find('#'); hash != std::string::npos) {
    fragment = base.substr(hash);
    base.resize(hash);
  }
  char sep = base.find('?') == std::string::npos ? '?' : '&';
  HttpResponse r;
  r.status = 302;
  r.Header("Location", base + sep + "pomerium_jwt=" + jwt + fragment);
  return r;
}

HttpResponse AccessProxy::Forward(const HttpRequest& req, const std::string& body,
                                  const json& claims, const std::string& request_id) {
  std::string head = req.method + " " + req.target + " HTTP/1.1\r\n";
  bool upgrade = req.HasHeader("upgrade");
  for (const auto& [k, v] : req.headers) {
    // The client's credentials and identity claims never reach the API server; hop-by-hop
    // headers are the proxy's own business.
    if (k == "authorization" || k.rfind("impersonate-", 0) == 0 || k == "connection" ||
        k == "keep-alive" || k == "proxy-connection" || k == "te" || k == "trailer" ||
        k.rfind("x-forwarded-", 0) == 0) {
      continue;
    }
    head += k + ": " + v + "\r\n";
  }
  const User* sa = fixture_->FindUser(fixture_->proxy.service_account);
  head += "authorization: Bearer " + std::string(sa ? sa->token : "") + "\r\n";
  head += "impersonate-user: " + claims.value("sub", "") + "\r\n";
  if (claims.contains("groups") && claims["groups"].is_array()) {
    for (const auto& g : claims["groups"])
      if (g.is_string()) head += "impersonate-group: " + g.get<std::string>() + "\r\n";
  }
  head += "x-request-id: " + request_id + "\r\n";
  head += upgrade ? "connection: Upgrade\r\n" : "connection: close\r\n";
  head += "\r\n";

  HttpResponse resp;
  UpstreamTarget up = upstream_;
  const std::atomic<bool>* stop = stop_;
  resp.takeover = [up, stop, request_id, out = head + body](Conn& client, std::string already) {
    auto fail = [&](const char* why) {
      std::string msg = std::string("upstream unavailable: ") + why + "\n";
      client.WriteAll("HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nx-request-id: " +
                      request_id + "\r\nContent-Length: " + std::to_string(msg.size()) +
                      "\r\nConnection: close\r\n\r\n" + msg);
    };
    int fd = DialTcp(up.host, up.port, 5000);
    if (fd < 0) return fail("connect failed");
    SSL* ssl = SSL_new(up.tls);
    SSL_set_fd(ssl, fd);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
    Conn upstream(fd, ssl);
    if (SSL_connect(ssl) != 1) return fail("TLS handshake failed");
    if (!upstream.WriteAll(out + already)) return fail("write failed");
    // Read the upstream response head to add x-request-id, then relay everything.
    std::string resp_head;
    char buf[16384];
    size_t end = std::string::npos;
    while ((end = resp_head.find("\r\n\r\n")) == std::string::npos) {
      if (resp_head.size() > 64 * 1024) return fail("response head too large");
      ssize_t n = upstream.Read(buf, sizeof buf, 30000);
      if (n <= 0) return fail("no response");
      resp_head.append(buf, n);
    }
    std::string rest = resp_head.substr(end + 4);
    resp_head.resize(end + 2);
    bool switching = resp_head.compare(0, 12, "HTTP/1.1 101") == 0;
    std::string rewritten;
    size_t line_end = resp_head.find("\r\n");
    rewritten = resp_head.substr(0, line_end + 2) + "x-request-id: " + request_id + "\r\n";
    // Drop the upstream's Connection header for plain responses: the client connection closes.
    size_t pos = line_end + 2;
    while (pos < resp_head.size()) {
      size_t e = resp_head.find("\r\n", pos);
      std::string line = resp_head.substr(pos, e - pos + 2);
      pos = e + 2;
      if (!switching && ToLower(line.substr(0, 11)) == "connection:") continue;
      rewritten += line;
    }
    if (!switching) rewritten += "Connection: close\r\n";
    rewritten += "\r\n";
    if (!client.WriteAll(rewritten + rest)) return;
    Relay(client, upstream, stop);
  };
  return resp;
}

}  // namespace kproxy::sim
