#include "core/portforward/forwarder_ports.h"

#include <string>

#include "core/resolve/resource_ref.h"

namespace kproxy::portforward {
namespace {

bool IsNumber(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// The service port number a spec names (a number, or a named service port).
Result<int> ServicePortNumber(const nlohmann::json& service, const std::string& port) {
  if (IsNumber(port)) return std::stoi(port);
  const auto& ports =
      service.value("spec", nlohmann::json::object()).value("ports", nlohmann::json::array());
  for (const auto& sp : ports)
    if (sp.value("name", "") == port && sp.contains("port") && sp["port"].is_number_integer())
      return sp["port"].get<int>();
  return MakeError(ErrorCode::kNotFound,
                   "Service '" +
                       service.value("metadata", nlohmann::json::object()).value("name", "") +
                       "' does not have a named port '" + port + "'");
}

}  // namespace

Result<std::vector<ForwardedPort>> ResolveForwardedPorts(const std::vector<PortSpec>& specs,
                                                         const nlohmann::json& pod,
                                                         const nlohmann::json& service) {
  std::vector<ForwardedPort> out;
  bool is_service = service.is_object() && !service.empty();
  for (const auto& spec : specs) {
    ForwardedPort fp;
    int remote = 0;
    if (is_service) {
      auto svc_port = ServicePortNumber(service, spec.remote);
      if (!svc_port.ok()) return svc_port.error();
      auto target = ResolveServicePort(service, pod, std::to_string(*svc_port));
      if (!target.ok()) {
        // A headless service may list no ports: the port is the container port itself.
        std::string cluster_ip =
            service.value("spec", nlohmann::json::object()).value("clusterIP", "");
        if (cluster_ip != "None") return target.error();
        target = *svc_port;
      }
      remote = *target;
      // kubectl keeps the service port as the local port when none was given.
      fp.local = spec.local_from_remote ? static_cast<uint16_t>(*svc_port) : spec.local;
    } else {
      auto r = ResolvePodPort(pod, spec.remote);
      if (!r.ok()) return r.error();
      remote = *r;
      fp.local = spec.local_from_remote ? static_cast<uint16_t>(remote) : spec.local;
    }
    if (remote < 1 || remote > 65535)
      return MakeError(ErrorCode::kUsage, "remote port must be > 0");
    fp.remote = static_cast<uint16_t>(remote);
    out.push_back(fp);
  }
  return out;
}

}  // namespace kproxy::portforward
