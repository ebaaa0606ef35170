// Decoding an API server's error answer into kubectl's words (client-go rest.Request's
// transformResponse + apimachinery errors + kubectl's StandardErrorMessage). No I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/base/result.h"
#include "core/k8s/status.h"

namespace kproxy {

// A metav1.Status as found in an error body (the shared decoder in core/k8s/status.h).
using ApiStatus = k8s::ApiStatus;

// What the failed request was, for client-go's generic messages ("(get pods x)").
struct RequestContext {
  std::string verb;      // "get", "list"
  std::string resource;  // "pods" ("" = none)
  std::string name;      // "" = none
};

// Consumes a response body. Returns the Status when k8s::DecodeStatus accepts the body and its
// kind is "Status" (client-go only treats such bodies as Status errors), else nullopt.
std::optional<ApiStatus> ParseApiStatus(std::string_view body);

// Consumes a non-2xx response (status, Content-Type, body). Returns the error kubectl would
// print, as one line: "Error from server (<Reason>): <message>", "Error from server: <message>"
// or, for 401, "error: You must be logged in to the server (<message>)". Code: 401
// kUnauthenticated, 403 kForbidden, 404 kNotFound, else kServer.
Error ApiErrorFromResponse(int http_status, std::string_view content_type, std::string_view body,
                           const RequestContext& context);

}  // namespace kproxy
