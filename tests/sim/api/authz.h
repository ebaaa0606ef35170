// Authentication (bearer tokens, impersonation headers) and RBAC authorization for the
// simulated API server, with kube-apiserver's wording for every denial. The streaming layer
// calls AuthorizeStreaming for exec/attach/portforward upgrades.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tests/sim/faults.h"
#include "tests/sim/fixture.h"
#include "tests/sim/server/http_request.h"
#include "tests/sim/server/http_server.h"

namespace kproxy::sim {

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
};

// What a request asks to do, as the apiserver's RequestInfo resolves it.
struct Attributes {
  bool resource_request = true;
  std::string verb;         // get, list, watch, create, impersonate, ...
  std::string api_group;    // "" for the core group
  std::string resource;     // "pods"
  std::string subresource;  // "exec", "log"
  std::string namespace_;   // "" for cluster scope
  std::string name;
  std::string path;  // non-resource requests
};

// True when the user's own rules or any of its groups' rules allow `attrs`.
bool Authorize(const Fixture& fixture, const UserInfo& user, const Attributes& attrs);
// `User "u" cannot get resource "pods" in API group "" in the namespace "ns"`.
std::string ForbiddenReason(const UserInfo& user, const Attributes& attrs);
// The full 403 Status: `pods "x" is forbidden: User ...`.
HttpResponse Forbidden(const UserInfo& user, const Attributes& attrs);

// Resolves the requester: bearer token → fixture user (+ system:authenticated), then the
// Impersonate-User/-Group headers when the requester may impersonate. On failure returns the
// response to send (401, or 403 "cannot impersonate").
struct AuthnResult {
  std::optional<UserInfo> user;
  HttpResponse error;
};
AuthnResult Authenticate(const Fixture& fixture, const Faults& faults, const HttpRequest& req);

// The streaming subresources (exec, attach, portforward) with the real asymmetry: a WebSocket
// upgrade is a GET (verb get), a SPDY upgrade a POST (verb create). Applies the rbac-ws-get and
// rbac-both faults. Returns the 403 to send, or nullopt when allowed.
std::optional<HttpResponse> AuthorizeStreaming(const Fixture& fixture, const Faults& faults,
                                               const UserInfo& user, const HttpRequest& req,
                                               const std::string& namespace_,
                                               const std::string& pod,
                                               const std::string& subresource);

// Upgrade-level faults in front of the streaming handler: ws-forbidden (WebSocket → empty
// 403), strip-upgrade (400 "Upgrade request required"), and a request without Upgrade.
std::optional<HttpResponse> CheckUpgrade(const Faults& faults, const HttpRequest& req);
bool IsWebSocketUpgrade(const HttpRequest& req);

}  // namespace kproxy::sim
