#include "core/diagnose/refusal.h"

#include <strings.h>

#include <nlohmann/json.hpp>
#include <regex>

namespace kproxy {
namespace {

std::string HeaderValue(const RefusedResponse& r, const char* name) {
  for (const auto& [k, v] : r.headers)
    if (strcasecmp(k.c_str(), name) == 0) return v;
  return "";
}

bool HasHeader(const RefusedResponse& r, const char* name) {
  for (const auto& [k, v] : r.headers)
    if (strcasecmp(k.c_str(), name) == 0) return true;
  return false;
}

// The parts of a body that matter for classification.
struct BodyInfo {
  bool is_status = false;       // a metav1.Status ("kind":"Status" or status/message fields)
  bool has_metadata = false;    // Kubernetes writes metadata; Pomerium's Status has none
  bool pomerium_error = false;  // {"error":"Forbidden","request_id":...}
  std::string message, reason, request_id;
};

BodyInfo ParseBody(const std::string& body) {
  BodyInfo info;
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return info;
  auto str = [&](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (j.contains("error") && j["error"].is_string()) {
    info.pomerium_error = true;
    info.message = str("error");
    info.request_id = str("request_id");
    return info;
  }
  if (str("kind") == "Status" || j.contains("status") || j.contains("message")) {
    info.is_status = true;
    info.has_metadata = j.contains("metadata");
    info.message = str("message");
    info.reason = str("reason");
  }
  return info;
}

std::string Headline(const BodyInfo& b, int status) {
  std::string reason = b.reason;
  if (reason.empty()) {
    switch (status) {
      case 400:
        reason = "BadRequest";
        break;
      case 401:
        reason = "Unauthorized";
        break;
      case 403:
        reason = "Forbidden";
        break;
      case 404:
        reason = "NotFound";
        break;
      default:
        break;
    }
  }
  std::string message = b.message.empty()
                            ? "the server refused the request (HTTP " + std::to_string(status) + ")"
                            : b.message;
  return reason.empty() ? "Error from server: " + message
                        : "Error from server (" + reason + "): " + message;
}

bool LooksLikeSignInRedirect(const RefusedResponse& r) {
  if (r.status != 302 && r.status != 303 && r.status != 307) return false;
  std::string loc = HeaderValue(r, "location");
  static const std::regex kSignIn(R"(sign_?in|login|oauth|authorize|\.pomerium)",
                                  std::regex::icase);
  return std::regex_search(loc, kSignIn);
}

void ExplainRbac(Diagnosis& d, const std::string& message, const RefusalContext& ctx) {
  static const std::regex kRbac(
      R"re(User "([^"]*)" cannot (\S+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]*)")?)re");
  std::smatch m;
  if (!std::regex_search(message, m, kRbac)) {
    d.explanation.push_back("Kubernetes RBAC refused this request for " +
                            (ctx.identity.empty() ? std::string("your user") : ctx.identity) + ".");
    return;
  }
  d.user = m[1];
  d.verb = m[2];
  d.resource = m[3];
  d.namespace_ = m[5];
  if (d.resource == "users" || d.resource == "groups" || d.resource == "serviceaccounts" ||
      d.resource == "uids" || d.resource == "userextras") {
    if (d.verb == "impersonate") {
      d.kind = RefusalKind::kImpersonationDenied;
      d.explanation.push_back("The access proxy's identity \"" + d.user +
                              "\" may not impersonate " + d.resource +
                              ": this is an administrator-side problem with the proxy's "
                              "service account, not with your own permissions.");
      d.explanation.push_back(
          "Ask the cluster administrator to grant it the \"impersonate\" verb on " + d.resource +
          " (a ClusterRole bound to the proxy's service account).");
      return;
    }
  }
  std::string where =
      d.namespace_.empty() ? "cluster-wide" : "in namespace \"" + d.namespace_ + "\"";
  d.explanation.push_back("Kubernetes RBAC: user \"" + d.user + "\" lacks verb \"" + d.verb +
                          "\" on \"" + d.resource + "\" " + where + ".");
  std::string rule = "Add a Role rule {apiGroups: [\"\"], resources: [\"" + d.resource +
                     "\"], verbs: [\"" + d.verb + "\"]} bound to \"" + d.user + "\"";
  auto slash = d.resource.find('/');
  if (slash != std::string::npos && (d.verb == "get" || d.verb == "create")) {
    // Kubernetes authorizes the WebSocket GET as "get" and the SPDY POST as "create".
    rule +=
        "; streaming over WebSocket needs \"get\" and over SPDY needs \"create\", so grant "
        "both";
  }
  d.explanation.push_back(rule + ".");
}

}  // namespace

const char* RefusalKindName(RefusalKind kind) {
  switch (kind) {
    case RefusalKind::kRbac:
      return "rbac";
    case RefusalKind::kImpersonationDenied:
      return "impersonation-denied";
    case RefusalKind::kProxyPolicy:
      return "proxy-policy";
    case RefusalKind::kUpgradeRefused:
      return "upgrade-refused";
    case RefusalKind::kUpgradeStripped:
      return "upgrade-stripped";
    case RefusalKind::kUnauthenticated:
      return "unauthenticated";
    case RefusalKind::kHttp2Only:
      return "http2-only";
    case RefusalKind::kDeviceIdentity:
      return "device-identity-required";
    case RefusalKind::kClientCertRequired:
      return "client-certificate-required";
    case RefusalKind::kNotFound:
      return "not-found";
    case RefusalKind::kOther:
      return "other";
  }
  return "other";
}

Diagnosis ClassifyRefusal(const RefusedResponse& r, const RefusalContext& ctx) {
  Diagnosis d;
  d.request_id = HeaderValue(r, "x-request-id");
  const std::string who = ctx.identity.empty() ? "your identity" : "\"" + ctx.identity + "\"";
  const std::string transport = r.transport == Transport::kWebSocket ? "WebSocket"
                                : r.transport == Transport::kSpdy    ? "SPDY/3.1"
                                                                     : "this";

  if (r.alpn_h2) {
    d.kind = RefusalKind::kHttp2Only;
    d.code = ErrorCode::kUpgradeRejected;
    d.headline = "error: the server at " + ctx.route +
                 " negotiated HTTP/2, where no protocol upgrade exists";
    d.explanation.push_back(
        "The front end only speaks HTTP/2 (ALPN h2) although kproxy offered only http/1.1; "
        "exec, attach and port-forward need an HTTP/1.1 upgrade. Enable HTTP/1.1 on that "
        "listener or use an L4 (TCP) proxy route.");
    return d;
  }

  BodyInfo body = ParseBody(r.body);
  if (d.request_id.empty()) d.request_id = body.request_id;

  if (r.status == 401 || LooksLikeSignInRedirect(r)) {
    d.kind = RefusalKind::kUnauthenticated;
    d.code = ErrorCode::kUnauthenticated;
    d.headline = r.status == 401 ? Headline(body, 401)
                                 : "error: the access proxy redirected to a sign-in page";
    d.explanation.push_back(
        "The session for " + who + " is missing, expired or revoked." +
        (ctx.login_command.empty() ? std::string() : " Run: " + ctx.login_command));
    return d;
  }
  if (r.status == 450) {
    d.kind = RefusalKind::kDeviceIdentity;
    d.code = ErrorCode::kForbidden;
    d.headline = "error: the access proxy requires a registered device identity (HTTP 450)";
    d.explanation.push_back("Enroll this device with the access proxy, then retry.");
    return d;
  }
  if (r.status == 495 || r.status == 496) {
    d.kind = RefusalKind::kClientCertRequired;
    d.code = ErrorCode::kForbidden;
    d.headline = "error: the access proxy requires a client certificate (HTTP " +
                 std::to_string(r.status) + ")";
    d.explanation.push_back(
        "Configure client-certificate and client-key for this cluster's user in kubeconfig.");
    return d;
  }
  if (r.status == 400 && r.body.find("Upgrade request required") != std::string::npos) {
    d.kind = RefusalKind::kUpgradeStripped;
    d.code = ErrorCode::kUpgradeRejected;
    d.headline =
        Headline(body.message.empty()
                     ? BodyInfo{true, false, false, "Upgrade request required", "BadRequest", ""}
                     : body,
                 400);
    d.explanation.push_back(
        "An intermediary between kproxy and the API server removed the Upgrade header. Use a "
        "proxy that passes HTTP/1.1 upgrades (WebSocket and SPDY), or an L4 (TCP) route.");
    return d;
  }
  if (r.status == 404) {
    d.kind = RefusalKind::kNotFound;
    d.code = ErrorCode::kNotFound;
    d.headline = Headline(body, 404);
    return d;
  }
  if (r.status == 403) {
    d.code = ErrorCode::kForbidden;
    bool intercepted = HasHeader(r, "x-pomerium-intercepted-response");
    if (body.pomerium_error || intercepted ||
        (body.is_status && !body.has_metadata && body.message == "Forbidden")) {
      d.kind = RefusalKind::kProxyPolicy;
      d.headline = "Error from server (Forbidden): Forbidden";
      d.explanation.push_back("The access proxy's policy for " + ctx.route + " denied " + who +
                              "; Kubernetes never saw the request.");
      d.explanation.push_back(
          (d.request_id.empty() ? std::string("No request id was returned")
                                : "Request id " + d.request_id) +
          ": ask the proxy administrator to allow this identity on the route, or check the "
          "session at " +
          ctx.route + "/.pomerium/ .");
      return d;
    }
    if (r.body.empty() && r.transport != Transport::kRest) {
      d.kind = RefusalKind::kUpgradeRefused;
      d.code = ErrorCode::kUpgradeRejected;
      d.headline = "error: the server refused the " + transport + " upgrade (HTTP 403, no body)";
      d.explanation.push_back("The API server (before Kubernetes 1.30) or a proxy route without " +
                              transport +
                              " upgrades refused this protocol; another protocol may work.");
      return d;
    }
    d.kind = RefusalKind::kRbac;
    d.headline = Headline(body, 403);
    ExplainRbac(d, body.message, ctx);
    return d;
  }
  d.kind = RefusalKind::kOther;
  d.code = r.status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kServer;
  d.headline = Headline(body, r.status);
  if (!body.is_status && !r.body.empty() && r.body.size() < 200 &&
      r.body.find('<') == std::string::npos) {
    d.headline = "error: " + transport + " upgrade refused (HTTP " + std::to_string(r.status) +
                 "): " + r.body;
    while (!d.headline.empty() && (d.headline.back() == '\n' || d.headline.back() == '\r'))
      d.headline.pop_back();
  }
  return d;
}

}  // namespace kproxy
