#include "tests/sim/api/authz.h"

#include <algorithm>

#include "tests/sim/api/status.h"

namespace kproxy::sim {

namespace {

bool Matches(const std::vector<std::string>& allowed, const std::string& value) {
  for (const std::string& a : allowed)
    if (a == "*" || a == value) return true;
  return false;
}

bool PathMatches(const std::vector<std::string>& patterns, const std::string& path) {
  for (const std::string& p : patterns) {
    if (p == "*" || p == path) return true;
    if (!p.empty() && p.back() == '*' && path.compare(0, p.size() - 1, p, 0, p.size() - 1) == 0) {
      return true;
    }
  }
  return false;
}

bool RuleAllows(const Rule& rule, const Attributes& a) {
  if (!Matches(rule.verbs, a.verb)) return false;
  if (!a.resource_request) return PathMatches(rule.non_resource_urls, a.path);
  if (!Matches(rule.api_groups, a.api_group)) return false;
  std::string resource = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  if (!Matches(rule.resources, resource)) return false;
  if (!rule.resource_names.empty() && !Matches(rule.resource_names, a.name)) return false;
  // A namespaced rule never grants cluster-scoped access; "*" grants both.
  if (a.namespace_.empty()) {
    return std::find(rule.namespaces.begin(), rule.namespaces.end(), "*") != rule.namespaces.end();
  }
  return Matches(rule.namespaces, a.namespace_);
}

// Built-in grants every authenticated user has (system:discovery, system:basic-user).
bool BuiltinAllows(const UserInfo& user, const Attributes& a) {
  bool authenticated = false;
  for (const std::string& g : user.groups)
    authenticated = authenticated || g == "system:authenticated";
  if (!authenticated) return false;
  if (!a.resource_request) {
    return a.verb == "get" &&
           PathMatches({"/api", "/api/*", "/apis", "/apis/*", "/version", "/version/*", "/healthz",
                        "/livez", "/readyz", "/openapi/*"},
                       a.path);
  }
  return a.verb == "create" &&
         ((a.api_group == "authorization.k8s.io" &&
           (a.resource == "selfsubjectaccessreviews" || a.resource == "selfsubjectrulesreviews")) ||
          (a.api_group == "authentication.k8s.io" && a.resource == "selfsubjectreviews"));
}

std::string BearerToken(const HttpRequest& req) {
  std::string auth = req.Header("authorization");
  if (auth.size() > 7 && ToLower(auth.substr(0, 7)) == "bearer ") return auth.substr(7);
  return "";
}

}  // namespace

bool Authorize(const Fixture& fixture, const UserInfo& user, const Attributes& attrs) {
  if (BuiltinAllows(user, attrs)) return true;
  if (const User* u = fixture.FindUser(user.name)) {
    for (const Rule& r : u->rules)
      if (RuleAllows(r, attrs)) return true;
  }
  for (const std::string& g : user.groups) {
    if (const Group* group = fixture.FindGroup(g)) {
      for (const Rule& r : group->rules)
        if (RuleAllows(r, attrs)) return true;
    }
  }
  return false;
}

std::string ForbiddenReason(const UserInfo& user, const Attributes& a) {
  if (!a.resource_request) {
    return "User \"" + user.name + "\" cannot " + a.verb + " path \"" + a.path + "\"";
  }
  std::string resource = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  std::string out = "User \"" + user.name + "\" cannot " + a.verb + " resource \"" + resource +
                    "\" in API group \"" + a.api_group + "\"";
  if (!a.namespace_.empty()) return out + " in the namespace \"" + a.namespace_ + "\"";
  return out + " at the cluster scope";
}

HttpResponse Forbidden(const UserInfo& user, const Attributes& a) {
  std::string reason = ForbiddenReason(user, a);
  if (!a.resource_request) return StatusResponse(403, "Forbidden", "forbidden: " + reason);
  std::string qualified = a.api_group.empty() ? a.resource : a.resource + "." + a.api_group;
  std::string message = a.name.empty() ? qualified + " is forbidden: " + reason
                                       : qualified + " \"" + a.name + "\" is forbidden: " + reason;
  return StatusResponse(403, "Forbidden", message, a.name, a.api_group, a.resource);
}

AuthnResult Authenticate(const Fixture& fixture, const Faults& faults, const HttpRequest& req) {
  AuthnResult out;
  std::string token = BearerToken(req);
  const User* u = fixture.FindUserByToken(token);
  if (!u || faults.expired) {
    out.error = Unauthorized();
    return out;
  }
  UserInfo user{u->name, u->uid, u->groups};
  user.groups.push_back("system:authenticated");
  std::string as_user = req.Header("impersonate-user");
  std::vector<std::string> as_groups = req.Headers("impersonate-group");
  if (as_user.empty() && as_groups.empty()) {
    out.user = std::move(user);
    return out;
  }
  if (as_user.empty()) {
    // The apiserver refuses group impersonation without a user.
    out.error = StatusResponse(500, "InternalError",
                               "Internal error occurred: requested [" +
                                   (as_groups.empty() ? std::string() : as_groups.front()) +
                                   "] without impersonating a user");
    return out;
  }
  auto check = [&](const char* resource, const std::string& name) -> bool {
    Attributes a;
    a.verb = "impersonate";
    a.resource = resource;
    a.name = name;
    if (Authorize(fixture, user, a)) return true;
    out.error = Forbidden(user, a);
    return false;
  };
  if (!check("users", as_user)) return out;
  for (const std::string& g : as_groups)
    if (!check("groups", g)) return out;
  UserInfo impersonated;
  impersonated.name = as_user;
  if (const User* target = fixture.FindUser(as_user)) impersonated.uid = target->uid;
  impersonated.groups = as_groups;
  impersonated.groups.push_back("system:authenticated");
  out.user = std::move(impersonated);
  return out;
}

bool IsWebSocketUpgrade(const HttpRequest& req) {
  return ToLower(req.Header("upgrade")) == "websocket";
}

std::optional<HttpResponse> CheckUpgrade(const Faults& faults, const HttpRequest& req) {
  bool has_upgrade = req.HasHeader("upgrade") && req.ConnectionHas("upgrade");
  if (faults.strip_upgrade || !has_upgrade) {
    // What the apiserver says when an intermediary removed Upgrade/Connection.
    return StatusResponse(400, "BadRequest", "Upgrade request required");
  }
  if (faults.ws_forbidden && IsWebSocketUpgrade(req)) {
    HttpResponse r;  // a bare 403 with no body, as proxies refusing WebSocket send it
    r.status = 403;
    return r;
  }
  return std::nullopt;
}

std::optional<HttpResponse> AuthorizeStreaming(const Fixture& fixture, const Faults& faults,
                                               const UserInfo& user, const HttpRequest& req,
                                               const std::string& namespace_,
                                               const std::string& pod,
                                               const std::string& subresource) {
  Attributes a;
  // The apiserver authorizes the HTTP verb: GET (WebSocket) → get, POST (SPDY) → create.
  a.verb = req.method == "GET" ? "get" : "create";
  a.resource = "pods";
  a.subresource = subresource;
  a.namespace_ = namespace_;
  a.name = pod;
  bool denied_by_fault = faults.rbac_both || (faults.rbac_ws_get && a.verb == "get");
  if (denied_by_fault || !Authorize(fixture, user, a)) return Forbidden(user, a);
  return std::nullopt;
}

}  // namespace kproxy::sim
