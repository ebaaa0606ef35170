// metav1.Status error responses shaped exactly as kube-apiserver writes them.
#pragma once

#include <string>

#include "tests/sim/server/http_server.h"

namespace kproxy::sim {

// {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",...}. `details_kind`
// and `details_name` fill "details" when non-empty; `group` adds details.group.
HttpResponse StatusResponse(int code, const std::string& reason, const std::string& message,
                            const std::string& details_name = "",
                            const std::string& details_group = "",
                            const std::string& details_kind = "");
// 404 `pods "x" not found`.
HttpResponse NotFound(const std::string& group, const std::string& resource,
                      const std::string& name);
// 401 as the apiserver's authentication filter answers it.
HttpResponse Unauthorized();

}  // namespace kproxy::sim
