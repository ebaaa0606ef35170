#include "core/rest/http_client.h"

#include <strings.h>

#include <mutex>

#include "core/base/log.h"
#include "core/rest/curl_error.h"
#include "core/rest/curl_library.h"
#include "core/rest/request_headers.h"
#include "core/rest/token_file.h"

namespace kproxy {

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return "";
}

namespace {

// A response body bigger than this is refused instead of buffered without bound.
constexpr size_t kMaxBodyBytes = 256u << 20;

struct Collected {
  HttpResponse response;
  bool too_big = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* c = static_cast<Collected*>(user);
  size_t len = size * n;
  if (c->response.body.size() + len > kMaxBodyBytes) {
    c->too_big = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  c->response.body.append(data, len);
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* c = static_cast<Collected*>(user);
  size_t len = size * n;
  std::string_view line(data, len);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  // A new status line (after a 100 Continue) starts a new header set.
  if (line.rfind("HTTP/", 0) == 0) {
    c->response.headers.clear();
    return len;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return len;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  c->response.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  return len;
}

// The loaded libcurl; only called after Do() checked that Curl() succeeded.
const CurlApi& C() { return **Curl(); }

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool HasHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (h.first.size() == name.size() &&
        strncasecmp(h.first.data(), name.data(), name.size()) == 0) {
      return true;
    }
  }
  return false;
}

struct SlistFree {
  void operator()(curl_slist* l) const { C().slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistFree>;

void Append(Slist& list, const std::string& line) {
  curl_slist* next = C().slist_append(list.get(), line.c_str());
  if (next) {
    (void)list.release();
    list.reset(next);
  }
}

struct UrlFree {
  void operator()(CURLU* u) const { C().url_cleanup(u); }
};

std::string UrlPart(CURLU* u, CURLUPart part, unsigned flags = 0) {
  char* out = nullptr;
  if (C().url_get(u, part, &out, flags) != CURLUE_OK || !out) return "";
  std::string s(out);
  C().free(out);
  return s;
}

class CurlHttpClient : public HttpClient {
 public:
  CurlHttpClient(const RestConfig& config, HttpClientOptions options) : config_(config) {
    if (!config_.token_file.empty() && config_.bearer_token.empty()) {
      token_file_ = std::make_unique<TokenFileSource>(config_.token_file, options.now);
    }
    RegisterSecret(config_.bearer_token);
    RegisterSecret(config_.password);
    RegisterSecret(config_.client_key_data);
  }
  ~CurlHttpClient() override {
    if (easy_) C().easy_cleanup(easy_);
  }

  Result<HttpResponse> Do(const HttpRequest& request) override;

 private:
  struct Target {
    std::string url;      // what curl requests (host replaced for tls-server-name)
    std::string display;  // what messages name: the server as configured
    std::string logged;   // the full request URL as configured (before tls-server-name)
    std::string connect_to;
    std::string host_header;
  };
  Result<Target> ResolveTarget(const std::string& path) const;
  Status AddAuth(const HttpRequest& request, Slist& headers);
  void ApplyTls();

  RestConfig config_;
  std::unique_ptr<TokenFileSource> token_file_;
  std::mutex mu_;
  CURL* easy_ = nullptr;
};

Result<CurlHttpClient::Target> CurlHttpClient::ResolveTarget(const std::string& path) const {
  Target t;
  if (StartsWith(path, "https://") || StartsWith(path, "http://")) {
    t.url = path;
  } else {
    std::string base = config_.server;
    while (!base.empty() && base.back() == '/') base.pop_back();
    t.url = base + (StartsWith(path, "/") ? "" : "/") + path;
  }
  std::unique_ptr<CURLU, UrlFree> u(C().url());
  if (!u || C().url_set(u.get(), CURLUPART_URL, t.url.c_str(), 0) != CURLUE_OK) {
    return MakeError(ErrorCode::kConfig, "invalid server URL \"" + config_.server + "\"");
  }
  std::string host = UrlPart(u.get(), CURLUPART_HOST);
  std::string explicit_port = UrlPart(u.get(), CURLUPART_PORT);
  std::string port = UrlPart(u.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  t.logged = t.url;
  t.display = UrlPart(u.get(), CURLUPART_SCHEME) + "://" + host +
              (explicit_port.empty() ? "" : ":" + explicit_port);
  if (!config_.tls_server_name.empty() && host != config_.tls_server_name) {
    // tls-server-name: SNI and verification use the name while TCP goes to the URL's host.
    // curl has no separate SNI option, so the URL names tls-server-name and CONNECT_TO sends
    // the connection to the real host. CONNECT_TO (unlike RESOLVE) takes a host name, so DNS
    // stays curl's and IPv6 literals work. The Host header keeps the configured host, as
    // client-go sends it.
    std::string tls_host = config_.tls_server_name;
    C().url_set(u.get(), CURLUPART_HOST, tls_host.c_str(), 0);
    t.url = UrlPart(u.get(), CURLUPART_URL);
    t.connect_to = tls_host + ":" + port + ":" + host + ":" + port;
    t.host_header = "Host: " + host + (explicit_port.empty() ? "" : ":" + explicit_port);
  }
  return t;
}

Status CurlHttpClient::AddAuth(const HttpRequest& request, Slist& headers) {
  if (!request.authenticate) return Status::Ok();
  std::string token = config_.bearer_token;
  if (token.empty() && token_file_) {
    auto t = token_file_->Token();
    if (!t.ok()) return t.error();
    token = *t;
  }
  if (!token.empty() && !HasHeader(request.headers, "Authorization")) {
    Append(headers, "Authorization: Bearer " + token);
  } else if (!config_.username.empty() || !config_.password.empty()) {
    C().easy_setopt(easy_, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    C().easy_setopt(easy_, CURLOPT_USERNAME, config_.username.c_str());
    C().easy_setopt(easy_, CURLOPT_PASSWORD, config_.password.c_str());
  }
  for (const auto& [k, v] : ImpersonationHeaders(config_)) Append(headers, k + ": " + v);
  return Status::Ok();
}

void CurlHttpClient::ApplyTls() {
  if (config_.insecure_skip_tls_verify) {
    C().easy_setopt(easy_, CURLOPT_SSL_VERIFYPEER, 0L);
    C().easy_setopt(easy_, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (!config_.ca_data.empty()) {
    curl_blob ca{config_.ca_data.data(), config_.ca_data.size(), CURL_BLOB_COPY};
    C().easy_setopt(easy_, CURLOPT_CAINFO_BLOB, &ca);
    // Only the configured CA is trusted (client-go replaces the roots, it does not add).
    C().easy_setopt(easy_, CURLOPT_CAINFO, nullptr);
    C().easy_setopt(easy_, CURLOPT_CAPATH, nullptr);
  }
  if (!config_.client_cert_data.empty() && !config_.client_key_data.empty()) {
    curl_blob cert{config_.client_cert_data.data(), config_.client_cert_data.size(),
                   CURL_BLOB_COPY};
    curl_blob key{config_.client_key_data.data(), config_.client_key_data.size(), CURL_BLOB_COPY};
    C().easy_setopt(easy_, CURLOPT_SSLCERT_BLOB, &cert);
    C().easy_setopt(easy_, CURLOPT_SSLCERTTYPE, "PEM");
    C().easy_setopt(easy_, CURLOPT_SSLKEY_BLOB, &key);
    C().easy_setopt(easy_, CURLOPT_SSLKEYTYPE, "PEM");
  }
}

Result<HttpResponse> CurlHttpClient::Do(const HttpRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  // libcurl is loaded on the first request, not at start (curl_library.h).
  auto api = Curl();
  if (!api.ok()) return api.error();
  if (!easy_) easy_ = C().easy_init();
  if (!easy_) return MakeError(ErrorCode::kInternal, "curl_easy_init failed");
  auto target = ResolveTarget(request.path);
  if (!target.ok()) return target.error();
  // reset() clears options but keeps the connection cache for keep-alive.
  C().easy_reset(easy_);
  Collected got;
  char errbuf[CURL_ERROR_SIZE] = {0};
  C().easy_setopt(easy_, CURLOPT_URL, target->url.c_str());
  C().easy_setopt(easy_, CURLOPT_ERRORBUFFER, errbuf);
  // CURLOPT_NOSIGNAL stays off: then curl ignores SIGPIPE around its own socket writes
  // (OpenSSL writes with write(), not MSG_NOSIGNAL). Debian's curl resolves in a thread, so
  // no alarm() signals are involved either way.
  C().easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 0L);  // never follow redirects
  C().easy_setopt(easy_, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  C().easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
  C().easy_setopt(easy_, CURLOPT_WRITEFUNCTION, OnBody);
  C().easy_setopt(easy_, CURLOPT_WRITEDATA, &got);
  C().easy_setopt(easy_, CURLOPT_HEADERFUNCTION, OnHeader);
  C().easy_setopt(easy_, CURLOPT_HEADERDATA, &got);
  C().easy_setopt(easy_, CURLOPT_USERAGENT, UserAgent().c_str());
  if (!config_.disable_compression) C().easy_setopt(easy_, CURLOPT_ACCEPT_ENCODING, "gzip");
  if (config_.timeout.count() > 0) {
    C().easy_setopt(easy_, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout.count()));
  }
  // proxy-url wins; otherwise curl itself honours https_proxy/HTTPS_PROXY and no_proxy/NO_PROXY.
  if (!config_.proxy_url.empty()) {
    // Go's SOCKS5 dialer sends the host name to the proxy (remote DNS): curl calls that
    // socks5h; plain socks5 in curl would resolve locally.
    std::string proxy = config_.proxy_url;
    if (StartsWith(proxy, "socks5://")) proxy = "socks5h://" + proxy.substr(9);
    C().easy_setopt(easy_, CURLOPT_PROXY, proxy.c_str());
    // client-go's proxy-url is http.ProxyURL: every host goes through it, whatever NO_PROXY
    // says, while curl would still consult no_proxy for an explicit proxy.
    C().easy_setopt(easy_, CURLOPT_NOPROXY, "");
  }
  ApplyTls();

  Slist connect_to;
  Slist headers;
  if (!target->connect_to.empty()) {
    Append(connect_to, target->connect_to);
    C().easy_setopt(easy_, CURLOPT_CONNECT_TO, connect_to.get());
    Append(headers, target->host_header);
  }
  if (!HasHeader(request.headers, "Accept")) {
    Append(headers, "Accept: " + std::string(kDefaultAccept));
  }
  for (const auto& [k, v] : request.headers) Append(headers, k + ": " + v);
  Append(headers, "Expect:");  // no 100-continue round trip for bodies
  if (Status s = AddAuth(request, headers); !s.ok()) return s.error();
  C().easy_setopt(easy_, CURLOPT_HTTPHEADER, headers.get());

  if (request.method == "HEAD") {
    C().easy_setopt(easy_, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    C().easy_setopt(easy_, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
      request.method == "PATCH") {
    C().easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE,
                    static_cast<curl_off_t>(request.body.size()));
    C().easy_setopt(easy_, CURLOPT_POSTFIELDS, request.body.c_str());
  }

  if (Verbosity() >= 6) {
    std::string line = request.method + " " + target->logged;
    if (Verbosity() >= 7) {
      for (curl_slist* h = headers.get(); h; h = h->next) line += "\n    " + std::string(h->data);
    }
    Log(6, line);
  }
  auto started = std::chrono::steady_clock::now();
  CURLcode rc = C().easy_perform(easy_);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count();
  if (rc != CURLE_OK) {
    if (got.too_big) {
      return MakeError(ErrorCode::kProtocol, "the response from " + target->display +
                                                 " is larger than 256 MiB; refusing it");
    }
    Error e = CurlTransferError(rc, errbuf, target->display);
    e.message = Redact(e.message);
    Log(6, request.method + " " + target->logged + " failed in " + std::to_string(ms) +
               " ms: " + e.message);
    return e;
  }
  long status = 0;
  C().easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
  got.response.status = static_cast<int>(status);
  Log(6, request.method + " " + target->logged + " " + std::to_string(status) + " in " +
             std::to_string(ms) + " milliseconds");
  if (Verbosity() >= 8) {
    std::string line = "Response headers:";
    for (const auto& [k, v] : got.response.headers) line += "\n    " + k + ": " + v;
    Log(8, line);
  }
  return std::move(got.response);
}

}  // namespace

std::unique_ptr<HttpClient> MakeCurlHttpClient(const RestConfig& config,
                                               HttpClientOptions options) {
  return std::make_unique<CurlHttpClient>(config, std::move(options));
}

}  // namespace kproxy
