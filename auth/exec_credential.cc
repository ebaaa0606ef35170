#include "auth/exec_credential.h"

#include <openssl/evp.h>

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace kproxy::auth {
namespace {

using nlohmann::json;

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> Base64Decode(std::string_view b64) {
  if (b64.size() % 4 != 0) return MakeError(ErrorCode::kUsage, "invalid base64 length");
  std::string out(b64.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  if (n < 0) return MakeError(ErrorCode::kUsage, "invalid base64");
  size_t pad = 0;
  for (size_t i = b64.size(); i > 0 && b64[i - 1] == '='; --i) ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

bool ParseDigits(std::string_view s, size_t pos, size_t count, int* out) {
  if (pos + count > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

Error PluginError(std::string message) { return MakeError(ErrorCode::kUnauthenticated, message); }

}  // namespace

bool IsSupportedExecApiVersion(std::string_view v) {
  return v == kExecApiV1 || v == kExecApiV1beta1;
}

std::string FormatRfc3339(SystemTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<SystemTime> ParseRfc3339(std::string_view s) {
  auto bad = [&] {
    return MakeError(ErrorCode::kProtocol, "invalid RFC 3339 time \"" + std::string(s) + "\"");
  };
  int year, mon, day, hour, min, sec;
  if (s.size() < 20 || !ParseDigits(s, 0, 4, &year) || s[4] != '-' || !ParseDigits(s, 5, 2, &mon) ||
      s[7] != '-' || !ParseDigits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
      !ParseDigits(s, 11, 2, &hour) || s[13] != ':' || !ParseDigits(s, 14, 2, &min) ||
      s[16] != ':' || !ParseDigits(s, 17, 2, &sec)) {
    return bad();
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
    return bad();
  }
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return bad();
  }
  int offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!ParseDigits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ParseDigits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return bad();
    }
    offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  std::time_t t = timegm(&tm);
  return std::chrono::system_clock::from_time_t(t) - std::chrono::minutes(offset_minutes);
}

std::string EncodeExecCredential(std::string_view api_version, const ExecCredentialStatus& s) {
  json status = json::object();
  if (!s.token.empty()) status["token"] = s.token;
  if (!s.client_certificate_data.empty()) {
    status["clientCertificateData"] = s.client_certificate_data;
  }
  if (!s.client_key_data.empty()) status["clientKeyData"] = s.client_key_data;
  // Unknown expiry is omitted: client-go reads a zero time as "expired long ago" in some
  // versions and re-runs the plugin on every request.
  if (s.expiration) status["expirationTimestamp"] = FormatRfc3339(*s.expiration);
  json out = {{"apiVersion", std::string(api_version)},
              {"kind", "ExecCredential"},
              {"spec", json::object()},
              {"status", status}};
  return out.dump();
}

Result<ExecCredentialStatus> DecodeExecCredential(std::string_view text,
                                                  std::string_view expected_api_version) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return PluginError("decoding stdout: exec plugin output is not a JSON object");
  }
  auto api = j.find("apiVersion");
  std::string got = api != j.end() && api->is_string() ? api->get<std::string>() : "";
  if (got != expected_api_version) {
    return PluginError("exec plugin is configured to use API version " +
                       std::string(expected_api_version) + ", plugin returned version " +
                       (got.empty() ? "\"\"" : got));
  }
  auto kind = j.find("kind");
  if (kind == j.end() || !kind->is_string() || *kind != "ExecCredential") {
    return PluginError("decoding stdout: exec plugin returned kind other than ExecCredential");
  }
  auto st = j.find("status");
  if (st == j.end() || st->is_null())
    return PluginError("exec plugin didn't return a status field");
  if (!st->is_object()) return PluginError("decoding stdout: status is not an object");
  ExecCredentialStatus out;
  for (auto [field, name] : {std::pair{&out.token, "token"},
                             std::pair{&out.client_certificate_data, "clientCertificateData"},
                             std::pair{&out.client_key_data, "clientKeyData"}}) {
    auto it = st->find(name);
    if (it == st->end() || it->is_null()) continue;
    if (!it->is_string())
      return PluginError(std::string("decoding stdout: ") + name + " is not a string");
    *field = it->get<std::string>();
  }
  if (auto it = st->find("expirationTimestamp"); it != st->end() && !it->is_null()) {
    if (!it->is_string())
      return PluginError("decoding stdout: expirationTimestamp is not a string");
    auto t = ParseRfc3339(it->get<std::string>());
    if (!t) return PluginError("decoding stdout: " + t.error().message);
    out.expiration = *t;
  }
  if (out.token.empty() && out.client_certificate_data.empty() && out.client_key_data.empty()) {
    return PluginError("exec plugin didn't return a token or cert/key pair");
  }
  if (out.client_certificate_data.empty() != out.client_key_data.empty()) {
    return PluginError("exec plugin returned only certificate or key, not both");
  }
  return out;
}

std::string EncodeExecInfo(const ExecInfo& info) {
  json spec = {{"interactive", info.interactive}};
  if (info.cluster) {
    const auto& c = *info.cluster;
    json cluster = {{"server", c.server}};
    if (!c.tls_server_name.empty()) cluster["tls-server-name"] = c.tls_server_name;
    if (c.insecure_skip_tls_verify) cluster["insecure-skip-tls-verify"] = true;
    if (!c.certificate_authority_data.empty()) {
      cluster["certificate-authority-data"] = Base64Encode(c.certificate_authority_data);
    }
    if (!c.proxy_url.empty()) cluster["proxy-url"] = c.proxy_url;
    if (c.disable_compression) cluster["disable-compression"] = true;
    if (!c.config_json.empty()) {
      json config = json::parse(c.config_json, nullptr, false);
      if (!config.is_discarded()) cluster["config"] = config;
    }
    spec["cluster"] = cluster;
  }
  json out = {{"apiVersion", info.api_version}, {"kind", "ExecCredential"}, {"spec", spec}};
  return out.dump();
}

Result<ExecInfo> ParseExecInfo(std::string_view text) {
  ExecInfo info;
  if (text.empty()) return info;
  auto bad = [](std::string why) {
    return MakeError(ErrorCode::kUsage, "invalid KUBERNETES_EXEC_INFO: " + why);
  };
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  auto api = j.find("apiVersion");
  if (api != j.end()) {
    if (!api->is_string() || !IsSupportedExecApiVersion(api->get<std::string>())) {
      return bad("unsupported apiVersion " + api->dump());
    }
    info.api_version = api->get<std::string>();
  }
  auto spec = j.find("spec");
  if (spec == j.end() || spec->is_null()) return info;
  if (!spec->is_object()) return bad("spec is not an object");
  if (auto it = spec->find("interactive"); it != spec->end()) {
    if (!it->is_boolean()) return bad("spec.interactive is not a boolean");
    info.interactive = it->get<bool>();
  }
  if (auto it = spec->find("cluster"); it != spec->end() && !it->is_null()) {
    if (!it->is_object()) return bad("spec.cluster is not an object");
    ExecClusterInfo c;
    auto str = [&](const char* name, std::string* field) -> Status {
      auto f = it->find(name);
      if (f == it->end() || f->is_null()) return Status::Ok();
      if (!f->is_string()) return bad(std::string("spec.cluster.") + name + " is not a string");
      *field = f->get<std::string>();
      return Status::Ok();
    };
    auto flag = [&](const char* name, bool* field) -> Status {
      auto f = it->find(name);
      if (f == it->end() || f->is_null()) return Status::Ok();
      if (!f->is_boolean()) return bad(std::string("spec.cluster.") + name + " is not a boolean");
      *field = f->get<bool>();
      return Status::Ok();
    };
    std::string ca_b64;
    for (Status s : {str("server", &c.server), str("tls-server-name", &c.tls_server_name),
                     str("proxy-url", &c.proxy_url), str("certificate-authority-data", &ca_b64),
                     flag("insecure-skip-tls-verify", &c.insecure_skip_tls_verify),
                     flag("disable-compression", &c.disable_compression)}) {
      if (!s) return s.error();
    }
    if (!ca_b64.empty()) {
      auto ca = Base64Decode(ca_b64);
      if (!ca) return bad("spec.cluster.certificate-authority-data is not base64");
      c.certificate_authority_data = *ca;
    }
    if (auto cfg = it->find("config"); cfg != it->end() && !cfg->is_null()) {
      c.config_json = cfg->dump();
    }
    info.cluster = c;
  }
  return info;
}

}  // namespace kproxy::auth
