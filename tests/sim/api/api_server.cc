#include "tests/sim/api/api_server.h"

#include <openssl/rand.h>

#include <chrono>
#include <thread>

#include "tests/sim/api/discovery.h"
#include "tests/sim/api/k8s_protobuf.h"
#include "tests/sim/api/objects.h"
#include "tests/sim/api/selectors.h"
#include "tests/sim/api/status.h"

namespace kproxy::sim {

namespace {

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string AuditId() {
  unsigned char b[16];
  RAND_bytes(b, sizeof b);
  char buf[40];
  snprintf(buf, sizeof buf, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
           b[14], b[15]);
  return buf;
}

HttpResponse JsonResponse(int status, const Json& j) {
  HttpResponse r;
  r.status = status;
  r.body = j.dump() + "\n";
  r.Header("Content-Type", "application/json");
  return r;
}

HttpResponse BadRequest(const std::string& message) {
  return StatusResponse(400, "BadRequest", message);
}

// Fields the apiserver accepts in a fieldSelector, per resource (pods have more).
bool FieldValue(const Json& obj, const std::string& kind, const std::string& field,
                std::string* out) {
  const Json& md = obj["metadata"];
  if (field == "metadata.name") {
    *out = md.value("name", "");
    return true;
  }
  if (field == "metadata.namespace") {
    *out = md.value("namespace", "");
    return true;
  }
  if (kind != "Pod") return false;
  if (field == "status.phase")
    *out = obj["status"].value("phase", "");
  else if (field == "spec.nodeName")
    *out = obj["spec"].value("nodeName", "");
  else if (field == "spec.restartPolicy")
    *out = obj["spec"].value("restartPolicy", "");
  else if (field == "spec.serviceAccountName")
    *out = obj["spec"].value("serviceAccountName", "");
  else if (field == "status.podIP")
    *out = obj["status"].value("podIP", "");
  else
    return false;
  return true;
}

std::string Verb(const std::string& method, bool has_name, bool watch) {
  if (method == "GET" || method == "HEAD") return has_name ? "get" : (watch ? "watch" : "list");
  if (method == "POST") return "create";
  if (method == "PUT") return "update";
  if (method == "PATCH") return "patch";
  if (method == "DELETE") return has_name ? "delete" : "deletecollection";
  return ToLower(method);
}

}  // namespace

ApiServer::ApiServer(Fixture fixture, Faults faults)
    : fixture_(std::move(fixture)), faults_(faults) {}

HttpResponse ApiServer::Handle(const HttpRequest& req, const std::string& body,
                               const RequestContext&) {
  HttpResponse resp;
  const std::string& path = req.path;
  if (path == "/healthz" || path == "/livez" || path == "/readyz") {
    resp.body = "ok";
    resp.Header("Content-Type", "text/plain; charset=utf-8");
  } else if (faults_.ws_forbidden && IsWebSocketUpgrade(req)) {
    resp.status = 403;  // the front end refuses WebSocket before any authentication
  } else {
    AuthnResult authn = Authenticate(fixture_, faults_, req);
    if (!authn.user) {
      resp = authn.error;
    } else {
      std::vector<std::string> seg = Split(path);
      bool resource_path =
          (seg.size() >= 3 && seg[0] == "api") || (seg.size() >= 4 && seg[0] == "apis");
      if (!resource_path) {
        Attributes a;
        a.resource_request = false;
        a.verb = ToLower(req.method);
        if (a.verb == "head") a.verb = "get";
        a.path = path;
        if (!Authorize(fixture_, *authn.user, a)) {
          resp = Forbidden(*authn.user, a);
        } else if (auto agg = AggregatedDiscovery(path, req.Header("accept"))) {
          resp = JsonResponse(200, agg->body);
          resp.headers.clear();
          resp.Header("Content-Type", agg->content_type);
        } else if (auto doc = DiscoveryDocument(fixture_, path, address_)) {
          resp = JsonResponse(200, *doc);
        } else {
          resp.status = 404;
          resp.body = "404 page not found\n";
          resp.Header("Content-Type", "text/plain; charset=utf-8");
        }
      } else {
        resp = HandleResource(req, *authn.user, body);
      }
    }
  }
  if (!resp.takeover) {
    resp.Header("Audit-Id", AuditId());
    resp.Header("Cache-Control", "no-cache, private");
  }
  // An upgrade request that was refused ends the connection, as the apiserver's upgrade-aware
  // handler does; intermediaries relaying it then see a clean end of the response.
  if (!resp.takeover && req.HasHeader("upgrade")) resp.close = true;
  return resp;
}

HttpResponse ApiServer::HandleResource(const HttpRequest& req, const UserInfo& user,
                                       const std::string& body) {
  std::vector<std::string> seg = Split(req.path);
  std::string group, version;
  size_t i;
  if (seg[0] == "api") {
    if (seg[1] != "v1")
      return StatusResponse(404, "NotFound", "the server could not find the requested resource");
    version = "v1";
    i = 2;
  } else {
    group = seg[1];
    version = seg[2];
    i = 3;
  }
  std::vector<std::string> rest(seg.begin() + i, seg.end());
  Attributes a;
  a.api_group = group;
  if (rest.size() >= 3 && rest[0] == "namespaces") {
    a.namespace_ = rest[1];
    a.resource = rest[2];
    if (rest.size() >= 4) a.name = rest[3];
    if (rest.size() >= 5) a.subresource = rest[4];
    if (rest.size() > 5)
      return StatusResponse(404, "NotFound", "the server could not find the requested resource");
  } else {
    a.resource = rest[0];
    if (rest.size() >= 2) a.name = rest[1];
    if (rest.size() >= 3) a.subresource = rest[2];
    if (rest.size() > 3)
      return StatusResponse(404, "NotFound", "the server could not find the requested resource");
  }
  bool watch = req.Query("watch") == "true" || req.Query("watch") == "1";
  a.verb = Verb(req.method, !a.name.empty(), watch);

  // The review resources: cluster-scoped, create only, open to every authenticated user.
  bool ssar = group == "authorization.k8s.io" && a.resource == "selfsubjectaccessreviews";
  bool ssr = group == "authentication.k8s.io" && a.resource == "selfsubjectreviews";
  if (ssar || ssr) {
    if (req.method != "POST") {
      return StatusResponse(405, "MethodNotAllowed",
                            "the server does not allow this method on the requested resource");
    }
    Json in;
    std::string content_type = ToLower(req.Header("content-type"));
    if (content_type.rfind("application/vnd.kubernetes.protobuf", 0) == 0) {
      // kubectl's typed clients send protobuf; kubectl accepts a JSON answer as well.
      auto decoded = DecodeReviewRequest(body);
      if (!decoded) return BadRequest(decoded.error().message);
      in = *decoded;
    } else {
      in = Json::parse(body, nullptr, false);
    }
    if (in.is_discarded() || !in.is_object()) {
      return BadRequest(
          "the body of the request was in an unknown format - accepted media types include: "
          "application/json, application/yaml, application/vnd.kubernetes.protobuf");
    }
    Json out = in;
    out["metadata"] = {{"creationTimestamp", nullptr}};
    if (ssr) {
      out["kind"] = "SelfSubjectReview";
      out["apiVersion"] = "authentication.k8s.io/" + version;
      Json ui = {{"username", user.name}, {"groups", user.groups}};
      if (!user.uid.empty()) ui["uid"] = user.uid;
      out["status"] = {{"userInfo", ui}};
      return JsonResponse(201, out);
    }
    Attributes q;
    const Json spec = in.value("spec", Json::object());
    if (spec.contains("nonResourceAttributes")) {
      const Json& n = spec["nonResourceAttributes"];
      q.resource_request = false;
      q.path = n.value("path", "");
      q.verb = n.value("verb", "");
    } else {
      const Json r = spec.value("resourceAttributes", Json::object());
      q.namespace_ = r.value("namespace", "");
      q.verb = r.value("verb", "");
      q.api_group = r.value("group", "");
      q.resource = r.value("resource", "");
      q.subresource = r.value("subresource", "");
      q.name = r.value("name", "");
    }
    bool allowed = Authorize(fixture_, user, q);
    out["status"] = {{"allowed", allowed}};
    return JsonResponse(201, out);
  }

  const ResourceType* type = FindResourceType(group, a.resource);
  if (!type || version != type->version) {
    return StatusResponse(404, "NotFound", "the server could not find the requested resource");
  }
  if (!type->namespaced && !a.namespace_.empty() && a.resource != "namespaces") {
    return StatusResponse(404, "NotFound", "the server could not find the requested resource");
  }
  bool streaming = a.resource == "pods" && (a.subresource == "exec" || a.subresource == "attach" ||
                                            a.subresource == "portforward");
  if (streaming) {
    if (req.method != "GET" && req.method != "POST") {
      return StatusResponse(405, "MethodNotAllowed",
                            "the server does not allow this method on the requested resource");
    }
    if (auto denied =
            AuthorizeStreaming(fixture_, faults_, user, req, a.namespace_, a.name, a.subresource)) {
      return *denied;
    }
    const Pod* pod = fixture_.FindPod(a.namespace_, a.name);
    if (!pod) return NotFound("", "pods", a.name);
    if (auto refused = CheckUpgrade(faults_, req)) return *refused;
    if (!streaming_) {
      return StatusResponse(503, "ServiceUnavailable",
                            "streaming is not available in this simulator build");
    }
    return streaming_(StreamingRequest{&req, &fixture_, &faults_, user, pod, a.subresource,
                                       IsWebSocketUpgrade(req)});
  }
  if (!Authorize(fixture_, user, a)) return Forbidden(user, a);
  if (a.verb != "get" && a.verb != "list") {
    if (a.verb == "watch") {
      return StatusResponse(405, "MethodNotAllowed", "the simulator does not serve watch");
    }
    return StatusResponse(405, "MethodNotAllowed",
                          "the server does not allow this method on the requested resource");
  }
  if (!a.namespace_.empty() && a.resource != "namespaces" && !fixture_.HasNamespace(a.namespace_) &&
      a.verb == "get") {
    return NotFound(group, a.resource, a.name);
  }

  time_t now = time(nullptr);
  std::vector<Json> objects;
  std::string kind = type->kind;
  auto in_scope = [&](const std::string& ns, const std::string& name) {
    if (!a.namespace_.empty() && ns != a.namespace_) return false;
    return a.name.empty() || name == a.name;
  };
  if (kind == "Pod") {
    for (const Pod& p : fixture_.pods)
      if (in_scope(p.namespace_, p.name)) objects.push_back(PodJson(p, now));
  } else if (kind == "Service") {
    for (const Service& s : fixture_.services)
      if (in_scope(s.namespace_, s.name)) objects.push_back(ServiceJson(s, now));
  } else if (kind == "Namespace") {
    for (const std::string& n : fixture_.namespaces)
      if (a.name.empty() || n == a.name) objects.push_back(NamespaceJson(n, now));
  } else {
    for (const Workload& w : fixture_.workloads)
      if (w.kind == kind && in_scope(w.namespace_, w.name))
        objects.push_back(WorkloadJson(fixture_, w, now));
  }

  if (!a.subresource.empty()) {
    if (objects.empty()) return NotFound(group, a.resource, a.name);
    if (a.resource == "pods" && a.subresource == "log" && req.method == "GET") {
      return HandleLog(req, *fixture_.FindPod(a.namespace_, a.name));
    }
    if (a.resource == "pods" && a.subresource == "status")
      return JsonResponse(200, objects.front());
    return StatusResponse(404, "NotFound", "the server could not find the requested resource");
  }
  if (!a.name.empty()) {
    if (objects.empty()) return NotFound(group, a.resource, a.name);
    if (WantsTable(req.Header("accept"))) {
      return JsonResponse(200,
                          TableJson(fixture_, *type, objects, req.Query("includeObject"), now));
    }
    return JsonResponse(200, objects.front());
  }

  auto labels = ParseLabelSelector(req.Query("labelSelector"));
  if (!labels) return BadRequest(labels.error().message);
  auto fields = ParseFieldSelector(req.Query("fieldSelector"));
  if (!fields) return BadRequest(fields.error().message);
  for (const Requirement& r : fields->requirements) {
    std::string ignored;
    if (!FieldValue(objects.empty() ? PodJson(fixture_.pods.front(), now) : objects.front(), kind,
                    r.key, &ignored)) {
      return BadRequest("field label not supported: " + r.key);
    }
  }
  std::vector<Json> selected;
  for (Json& obj : objects) {
    std::map<std::string, std::string> obj_labels;
    if (obj["metadata"].contains("labels")) {
      for (auto& [k, v] : obj["metadata"]["labels"].items()) obj_labels[k] = v.get<std::string>();
    }
    if (!labels->Matches(obj_labels)) continue;
    if (!fields->Matches([&](const std::string& f, std::string* out) {
          return FieldValue(obj, kind, f, out);
        })) {
      continue;
    }
    selected.push_back(std::move(obj));
  }
  if (WantsTable(req.Header("accept"))) {
    return JsonResponse(200, TableJson(fixture_, *type, selected, req.Query("includeObject"), now));
  }
  return JsonResponse(200, ListJson(*type, std::move(selected)));
}

HttpResponse ApiServer::HandleLog(const HttpRequest& req, const Pod& pod) {
  std::string container = req.Query("container");
  if (container.empty()) {
    if (pod.containers.size() > 1) {
      std::string names;
      for (const Container& c : pod.containers) names += (names.empty() ? "" : " ") + c.name;
      return BadRequest("a container name must be specified for pod " + pod.name +
                        ", choose one of: [" + names + "]");
    }
  } else {
    bool found = false;
    for (const Container& c : pod.containers) found = found || c.name == container;
    if (!found) {
      return BadRequest("container " + container + " is not valid for pod " + pod.name);
    }
  }
  std::string text = pod.log;
  if (req.HasQuery("tailLines")) {
    long n = std::strtol(req.Query("tailLines").c_str(), nullptr, 10);
    if (n < 0) return BadRequest("tailLines must be non-negative");
    size_t pos = text.size();
    if (!text.empty() && text.back() == '\n') --pos;
    long lines = 0;
    while (pos > 0 && lines < n) {
      size_t nl = text.rfind('\n', pos - 1);
      if (nl == std::string::npos) {
        pos = 0;
        break;
      }
      if (++lines == n) {
        pos = nl + 1;
        break;
      }
      pos = nl;
    }
    if (n == 0) pos = text.size();
    text = text.substr(pos);
  }
  HttpResponse r;
  r.Header("Content-Type", "text/plain");
  if (req.Query("follow") != "true") {
    r.body = text;
    return r;
  }
  // follow: what is there now, then keep the stream open until the client leaves (the
  // simulated container produces no more output).
  r.streamer = [text](ChunkWriter& w) {
    if (!w.Write(text)) return;
    for (int i = 0; i < 10 * 3600 && !w.Cancelled(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  };
  return r;
}

}  // namespace kproxy::sim
