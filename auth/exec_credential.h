// client.authentication.k8s.io ExecCredential v1 / v1beta1: the JSON a credential plugin
// prints and the KUBERNETES_EXEC_INFO it receives (auth.md §2, §3). No I/O here.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/result.h"

namespace kproxy::auth {

inline constexpr std::string_view kExecApiV1 = "client.authentication.k8s.io/v1";
inline constexpr std::string_view kExecApiV1beta1 = "client.authentication.k8s.io/v1beta1";

using SystemTime = std::chrono::system_clock::time_point;

struct ExecCredentialStatus {
  std::string token;                     // secret
  std::string client_certificate_data;   // PEM
  std::string client_key_data;           // PEM, secret
  std::optional<SystemTime> expiration;  // unknown → omitted on the wire
};

// spec.cluster as client-go fills it with provideClusterInfo: true.
struct ExecClusterInfo {
  std::string server;
  std::string tls_server_name;
  bool insecure_skip_tls_verify = false;
  std::string certificate_authority_data;  // PEM bytes (base64 on the wire)
  std::string proxy_url;
  bool disable_compression = false;
  std::string config_json;  // extensions[client.authentication.k8s.io/exec]; "" = none
};

struct ExecInfo {
  std::string api_version = std::string(kExecApiV1);
  bool interactive = false;
  std::optional<ExecClusterInfo> cluster;
};

// True for the two apiVersions kproxy speaks.
bool IsSupportedExecApiVersion(std::string_view api_version);

// Emits the one-line ExecCredential JSON a plugin prints (no trailing newline);
// expirationTimestamp appears only when known, as UTC RFC 3339 (never 0001-01-01).
std::string EncodeExecCredential(std::string_view api_version, const ExecCredentialStatus& s);

// Consumes a plugin's stdout; returns its validated status, with client-go's messages for
// a wrong apiVersion/kind, a missing status, no token and no cert/key, or half a key pair.
Result<ExecCredentialStatus> DecodeExecCredential(std::string_view json,
                                                  std::string_view expected_api_version);

// Emits KUBERNETES_EXEC_INFO for a plugin (spec.interactive, spec.cluster when present).
std::string EncodeExecInfo(const ExecInfo& info);
// Consumes KUBERNETES_EXEC_INFO ("" → defaults: v1, not interactive); kUsage when malformed.
Result<ExecInfo> ParseExecInfo(std::string_view json);

// RFC 3339 in UTC with seconds precision: "2026-01-02T03:04:05Z".
std::string FormatRfc3339(SystemTime t);
// Accepts RFC 3339 with 'Z' or a numeric offset and optional fractional seconds.
Result<SystemTime> ParseRfc3339(std::string_view text);

}  // namespace kproxy::auth
