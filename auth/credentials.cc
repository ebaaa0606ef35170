#include "auth/credentials.h"

#include <openssl/evp.h>

#include <fstream>
#include <iterator>

#include "auth/access_proxy_login.h"
#include "auth/route_http_client.h"
#include "auth/route_url.h"
#include "core/base/log.h"

namespace kproxy::auth {
namespace {

constexpr auto kTokenFileRefresh = std::chrono::minutes(1);

std::string Base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kConfig, "cannot read tokenFile " + path);
  std::string t(std::istreambuf_iterator<char>(in), {});
  size_t e = t.find_last_not_of(" \t\r\n");
  t.resize(e == std::string::npos ? 0 : e + 1);
  RegisterSecret(t);
  return t;
}

std::string Host(std::string_view url) {
  size_t s = url.find("://");
  if (s == std::string_view::npos) return "";
  std::string_view rest = url.substr(s + 3);
  return std::string(rest.substr(0, rest.find_first_of("/?#")));
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  if (text.empty()) return MakeError(ErrorCode::kUsage, "empty duration");
  size_t i = 0;
  int64_t value = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    value = value * 10 + (text[i] - '0');
    if (value > 100000000) return MakeError(ErrorCode::kUsage, "duration too long");
    ++i;
  }
  if (i == 0) return MakeError(ErrorCode::kUsage, "invalid duration \"" + std::string(text) + "\"");
  std::string_view unit = text.substr(i);
  using namespace std::chrono;
  if (unit.empty() || unit == "s") return milliseconds(seconds(value));
  if (unit == "ms") return milliseconds(value);
  if (unit == "m") return milliseconds(minutes(value));
  if (unit == "h") return milliseconds(hours(value));
  return MakeError(ErrorCode::kUsage,
                   "invalid duration \"" + std::string(text) + "\" (use e.g. 90s, 5m, 1h)");
}

std::optional<CredentialCommandArgs> AsKproxyCredentialPlugin(const ExecPluginConfig& exec) {
  std::string base = exec.command.substr(exec.command.rfind('/') + 1);
  if (base != "kproxy" || exec.args.empty() || exec.args[0] != "credential") return std::nullopt;
  CredentialCommandArgs a;
  for (size_t i = 1; i < exec.args.size(); ++i) {
    std::string arg = exec.args[i], value;
    bool has_inline = false;
    if (size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
      has_inline = true;
    }
    auto next = [&]() -> std::optional<std::string> {
      if (has_inline) return value;
      if (i + 1 < exec.args.size()) return exec.args[++i];
      return std::nullopt;
    };
    if (arg == "--no-browser") {
      a.no_browser = true;
    } else if (arg == "--server" || arg == "--service-account-file" || arg == "--browser-cmd" ||
               arg == "--login-timeout") {
      auto v = next();
      if (!v) return std::nullopt;
      if (arg == "--server") a.server = *v;
      if (arg == "--service-account-file") a.service_account_file = *v;
      if (arg == "--browser-cmd") a.browser_cmd = *v;
      if (arg == "--login-timeout") {
        auto d = ParseDuration(*v);
        if (!d) return std::nullopt;
        a.login_timeout = *d;
      }
    } else {
      return std::nullopt;  // something we do not understand: run it as a real plugin
    }
  }
  if (a.server.empty()) return std::nullopt;
  return a;
}

CredentialProvider::CredentialProvider(const RestConfig& config, CredentialDeps deps)
    : config_(config), deps_(std::move(deps)) {
  if (config_.exec) {
    proxy_args_ = AsKproxyCredentialPlugin(*config_.exec);
    if (proxy_args_) {
      source_ = CredentialSource::kAccessProxy;
      bool allowed = config_.exec->interactive_mode != "Never" && !deps_.stdin_in_use;
      proxy_interactive_ = allowed && IsInteractive(*deps_.env, std::nullopt);
      if (proxy_args_->service_account_file.empty()) {
        if (auto f = deps_.env->getenv("KPROXY_SERVICE_ACCOUNT_FILE"); f && !f->empty()) {
          proxy_args_->service_account_file = *f;
        }
      }
    } else {
      source_ = CredentialSource::kExecPlugin;
      ExecPluginContext ctx;
      ctx.stdin_available_for_prompt = !deps_.stdin_in_use && deps_.env->stdin_is_terminal();
      ctx.getenv = deps_.env->getenv;
      ctx.now = deps_.env->now;
      exec_cache_ = std::make_unique<ExecCredentialCache>(
          *config_.exec, std::optional<ExecClusterInfo>(ClusterInfoFrom(config_)), ctx);
    }
  } else if (!config_.bearer_token.empty()) {
    source_ = CredentialSource::kStaticToken;
    RegisterSecret(config_.bearer_token);
  } else if (!config_.token_file.empty()) {
    source_ = CredentialSource::kTokenFile;
  } else if (!config_.username.empty() || !config_.password.empty()) {
    source_ = CredentialSource::kBasic;
    RegisterSecret(config_.password);
  }
}

Result<std::string> CredentialProvider::AuthorizationHeader() {
  std::lock_guard<std::mutex> lock(mu_);
  switch (source_) {
    case CredentialSource::kNone:
      return std::string();
    case CredentialSource::kStaticToken:
      return "Bearer " + config_.bearer_token;
    case CredentialSource::kBasic: {
      std::string b = Base64(config_.username + ":" + config_.password);
      RegisterSecret(b);
      return "Basic " + b;
    }
    case CredentialSource::kTokenFile: {
      auto now = std::chrono::steady_clock::now();
      if (file_token_.empty() || now - file_read_at_ >= kTokenFileRefresh) {
        auto t = ReadTokenFile(config_.token_file);
        if (!t) return t.error();
        file_token_ = *t;
        file_read_at_ = now;
      }
      return "Bearer " + file_token_;
    }
    case CredentialSource::kExecPlugin: {
      auto st = exec_cache_->Get();
      if (!st) return st.error();
      last_exec_ = *st;
      return st->token.empty() ? std::string() : "Bearer " + st->token;
    }
    case CredentialSource::kAccessProxy: {
      if (!session_jwt_.empty()) return PomeriumAuthorization(session_jwt_);
      SessionOptions o;
      o.route = proxy_args_->server;
      o.service_account_file = proxy_args_->service_account_file;
      o.browser_cmd = proxy_args_->browser_cmd;
      o.no_browser = proxy_args_->no_browser;
      o.login_timeout = proxy_args_->login_timeout;
      o.interactive = proxy_interactive_;
      SessionDeps sd{deps_.route_http,   deps_.env,          deps_.cache,
                     deps_.open_browser, deps_.stdin_stream, deps_.cancel};
      auto s = AcquireSession(o, sd);
      if (!s) return s.error();
      session_jwt_ = s->jwt;
      return PomeriumAuthorization(session_jwt_);
    }
  }
  return std::string();
}

std::optional<std::pair<std::string, std::string>> CredentialProvider::PluginClientCertificate() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!last_exec_ || last_exec_->client_certificate_data.empty()) return std::nullopt;
  return std::make_pair(last_exec_->client_certificate_data, last_exec_->client_key_data);
}

bool CredentialProvider::OnRejected(const std::string& authorization) {
  std::lock_guard<std::mutex> lock(mu_);
  switch (source_) {
    case CredentialSource::kNone:
    case CredentialSource::kStaticToken:
    case CredentialSource::kBasic:
      return false;
    case CredentialSource::kTokenFile: {
      // The file may have been rotated since we read it: re-read now, retry only if changed.
      auto t = ReadTokenFile(config_.token_file);
      if (!t || "Bearer " + *t == authorization) return false;
      file_token_ = *t;
      file_read_at_ = std::chrono::steady_clock::now();
      return true;
    }
    case CredentialSource::kExecPlugin:
      exec_cache_->Invalidate();
      last_exec_.reset();
      return true;
    case CredentialSource::kAccessProxy: {
      if (!proxy_args_->service_account_file.empty()) return false;  // nothing to renew
      SessionDeps sd{deps_.route_http,   deps_.env,          deps_.cache,
                     deps_.open_browser, deps_.stdin_stream, deps_.cancel};
      if (Status s = MarkSessionRejected(proxy_args_->server, session_jwt_, sd); !s) {
        Log(1, "cannot mark the session rejected: " + s.error().message);
      }
      session_jwt_.clear();
      return true;  // AuthorizationHeader() logs in again or says kLoginRequired
    }
  }
  return false;
}

bool IsSessionRejection(const HttpResponse& response, std::string_view route) {
  if (response.status == 401) return true;
  if (response.status == 302 || response.status == 303 || response.status == 307) {
    std::string location = FindHeader(response, "Location");
    if (location.find("/.pomerium/") != std::string::npos) return true;
    std::string host = Host(location);
    return !host.empty() && host != Host(route);
  }
  return false;
}

Result<HttpResponse> WithSessionRetry(
    CredentialProvider& provider,
    const std::function<Result<HttpResponse>(const std::string& authorization)>& request_fn) {
  auto auth = provider.AuthorizationHeader();
  if (!auth) return auth.error();
  auto resp = request_fn(*auth);
  if (!resp) return resp;
  // The route is only known for the access-proxy source; other sources see plain 401s.
  if (!IsSessionRejection(*resp, "")) return resp;
  if (resp->status != 401 && provider.source() != CredentialSource::kAccessProxy) return resp;
  Log(2, "credential rejected (HTTP " + std::to_string(resp->status) + "); renewing once");
  if (!provider.OnRejected(*auth)) return resp;
  auto fresh = provider.AuthorizationHeader();
  if (!fresh) return fresh.error();
  return request_fn(*fresh);
}

}  // namespace kproxy::auth
