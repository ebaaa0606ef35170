// Classification of a refused request or upgrade (protocols.md §5) into one actionable
// explanation. Pure: status, headers and body in; a Diagnosis out.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/base/result.h"

namespace kproxy {

enum class Transport { kWebSocket, kSpdy, kRest };

// What came back instead of a successful response/101.
struct RefusedResponse {
  int status = 0;  // HTTP status
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;      // bounded
  bool alpn_h2 = false;  // the TLS peer selected HTTP/2: no upgrade is possible
  Transport transport = Transport::kRest;
};

// Who and what the request was for, to name them in the explanation.
struct RefusalContext {
  std::string identity;  // the user kproxy authenticated as ("" if unknown)
  std::string route;     // server URL
  std::string resource;  // e.g. "pods/exec"
  std::string namespace_;
  std::string login_command;  // e.g. "kproxy login --server https://..."
};

enum class RefusalKind {
  kRbac,                 // Kubernetes RBAC denied the (impersonated) user
  kImpersonationDenied,  // the proxy's service account may not impersonate
  kProxyPolicy,          // the access proxy's policy denied this identity
  kUpgradeRefused,       // an empty-body 403 on an upgrade: this transport is refused
  kUpgradeStripped,      // 400 "Upgrade request required": an intermediary dropped Upgrade
  kUnauthenticated,      // 401, or a redirect to a sign-in page
  kHttp2Only,            // ALPN chose h2
  kDeviceIdentity,       // 450: the proxy requires a device identity
  kClientCertRequired,   // 495: the proxy requires a client certificate
  kNotFound,             // 404
  kOther,
};

struct Diagnosis {
  RefusalKind kind = RefusalKind::kOther;
  ErrorCode code = ErrorCode::kServer;
  std::string headline;                  // kubectl's line: "Error from server (Forbidden): ..."
  std::vector<std::string> explanation;  // kproxy's one or two actionable lines
  std::string request_id;                // x-request-id when present
  // Parsed from an RBAC message when present.
  std::string user, verb, resource, namespace_;
};

Diagnosis ClassifyRefusal(const RefusedResponse& response, const RefusalContext& context);

const char* RefusalKindName(RefusalKind kind);

}  // namespace kproxy
