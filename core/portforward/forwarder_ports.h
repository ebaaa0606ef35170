// kubectl's port argument translation for port-forward (kubectl cmd/portforward
// convertPodNamedPortToNumber / translateServicePortToTargetPort): named container ports, and
// for svc/NAME the service port → target container port, local defaulting to the service port.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/base/result.h"
#include "core/portforward/listener.h"

namespace kproxy::portforward {

struct ForwardedPort {
  uint16_t local = 0;  // 0 = random
  uint16_t remote = 0;
};

// Resolves parsed specs against the pod (and the service, when `service` is an object).
// Errors carry kubectl's messages ("Pod 'p' does not have a named port 'x'", ...).
Result<std::vector<ForwardedPort>> ResolveForwardedPorts(const std::vector<PortSpec>& specs,
                                                         const nlohmann::json& pod,
                                                         const nlohmann::json& service);

}  // namespace kproxy::portforward
