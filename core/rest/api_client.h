// A small typed layer over HttpClient: GET JSON with kubectl's error mapping, and the pod
// reads `kproxy get pods` needs.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/base/result.h"
#include "core/rest/api_status.h"
#include "core/rest/http_client.h"

namespace kproxy {

class ApiClient {
 public:
  explicit ApiClient(HttpClient& http) : http_(http) {}

  // GETs `path` and returns the body as a JSON object. Errors: transport errors as they come;
  // non-2xx → ApiErrorFromResponse (kubectl's text); a 3xx → kUnauthenticated (an access proxy
  // sending us to its sign-in page); HTML, truncated JSON or a non-object → kProtocol.
  Result<nlohmann::json> GetJson(const std::string& path, const RequestContext& context);

  // Lists pods in `ns` ("" = all namespaces), filtered by a label selector ("" = none),
  // following `continue` tokens (500 per page, as kubectl). Returns a PodList object whose
  // "items" hold every pod; each item is checked to be an object with metadata.name.
  Result<nlohmann::json> ListPods(const std::string& ns, const std::string& label_selector);

  // Returns one pod. A missing pod is kNotFound: `Error from server (NotFound): pods "x" not
  // found`.
  Result<nlohmann::json> GetPod(const std::string& ns, const std::string& name);

 private:
  HttpClient& http_;
};

// Percent-encodes every byte but RFC 3986 unreserved ones, for one path segment (stricter
// than Go's url.PathEscape, same meaning to a server). Queries use http::QueryEscape.
std::string PathEscape(std::string_view s);

}  // namespace kproxy
