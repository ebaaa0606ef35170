#include "core/rest/api_client.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "core/transport/http_upgrade.h"

namespace kproxy {
namespace {

constexpr int kPageSize = 500;    // kubectl get's --chunk-size default
constexpr int kMaxPages = 10000;  // a server that never stops paginating is an error

std::string Escape(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string MediaType(const std::string& content_type) {
  std::string m = content_type.substr(0, content_type.find(';'));
  while (!m.empty() && m.back() == ' ') m.pop_back();
  for (auto& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return m;
}

Status CheckPod(const nlohmann::json& pod, const std::string& where) {
  if (!pod.is_object()) return MakeError(ErrorCode::kProtocol, where + ": a pod is not an object");
  auto md = pod.find("metadata");
  if (md == pod.end() || !md->is_object()) {
    return MakeError(ErrorCode::kProtocol, where + ": a pod has no metadata");
  }
  auto name = md->find("name");
  if (name == md->end() || !name->is_string()) {
    return MakeError(ErrorCode::kProtocol, where + ": a pod has no metadata.name");
  }
  return Status::Ok();
}

}  // namespace

std::string PathEscape(std::string_view s) { return Escape(s); }

Result<nlohmann::json> ApiClient::GetJson(const std::string& path, const RequestContext& context) {
  HttpRequest req;
  req.path = path;
  auto resp = http_.Do(req);
  if (!resp.ok()) return resp.error();
  const HttpResponse& r = *resp;
  std::string content_type = r.Header("Content-Type");
  if (r.status >= 300 && r.status < 400) {
    std::string location = r.Header("Location");
    if (!location.empty()) {
      return MakeError(ErrorCode::kUnauthenticated,
                       "error: the server redirected the request to " + location +
                           " (an access-proxy sign-in page?): log in again");
    }
  }
  if (r.status < 200 || r.status > 299) {
    return ApiErrorFromResponse(r.status, content_type, r.body, context);
  }
  std::string media = MediaType(content_type);
  if (media == "text/html") {
    return MakeError(ErrorCode::kProtocol,
                     "error: the server answered " + path +
                         " with an HTML page instead of JSON (a proxy or sign-in page in front of "
                         "the API server?)");
  }
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded()) {
    return MakeError(ErrorCode::kProtocol,
                     "error: the server's answer to " + path + " is not valid JSON (" +
                         std::to_string(r.body.size()) + " bytes, Content-Type \"" + content_type +
                         "\"; truncated?)");
  }
  if (!j.is_object()) {
    return MakeError(ErrorCode::kProtocol,
                     "error: the server's answer to " + path + " is JSON but not an object");
  }
  return j;
}

Result<nlohmann::json> ApiClient::ListPods(const std::string& ns,
                                           const std::string& label_selector) {
  std::string base = ns.empty() ? "/api/v1/pods" : "/api/v1/namespaces/" + PathEscape(ns) + "/pods";
  nlohmann::json list = {{"apiVersion", "v1"},
                         {"kind", "PodList"},
                         {"metadata", nlohmann::json::object()},
                         {"items", nlohmann::json::array()}};
  std::string cont;
  for (int page = 0; page < kMaxPages; ++page) {
    std::string path = base + "?limit=" + std::to_string(kPageSize);
    if (!label_selector.empty()) path += "&labelSelector=" + http::QueryEscape(label_selector);
    if (!cont.empty()) path += "&continue=" + http::QueryEscape(cont);
    auto got = GetJson(path, {"get", "pods", ""});
    if (!got.ok()) return got.error();
    nlohmann::json& j = *got;
    auto items = j.find("items");
    if (items == j.end() || !(items->is_array() || items->is_null())) {
      return MakeError(ErrorCode::kProtocol,
                       "error: the server's pod list from " + base + " has no \"items\" array");
    }
    if (items->is_array()) {
      for (auto& pod : *items) {
        if (Status s = CheckPod(pod, "error: the pod list from " + base); !s.ok()) {
          return s.error();
        }
        list["items"].push_back(std::move(pod));
      }
    }
    cont.clear();
    if (auto md = j.find("metadata"); md != j.end() && md->is_object()) {
      if (auto rv = md->find("resourceVersion"); rv != md->end() && rv->is_string()) {
        list["metadata"]["resourceVersion"] = *rv;
      }
      if (auto c = md->find("continue"); c != md->end() && c->is_string()) cont = *c;
    }
    if (cont.empty()) return list;
  }
  return MakeError(ErrorCode::kProtocol, "error: the server kept paginating " + base);
}

Result<nlohmann::json> ApiClient::GetPod(const std::string& ns, const std::string& name) {
  std::string path = "/api/v1/namespaces/" + PathEscape(ns) + "/pods/" + PathEscape(name);
  auto got = GetJson(path, {"get", "pods", name});
  if (!got.ok()) return got.error();
  if (Status s = CheckPod(*got, "error: the answer for pod " + name); !s.ok()) return s.error();
  return got;
}

}  // namespace kproxy
