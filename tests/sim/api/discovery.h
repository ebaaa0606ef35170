// Discovery documents: /version, /api, /apis, /api/v1, /apis/<group>[/<version>], shaped as
// kube-apiserver serves the legacy (unaggregated) form. client-go asks for the aggregated form
// first (Accept: ...as=APIGroupDiscoveryList) and falls back to this when the response's
// Content-Type is plain application/json, which is what an older API server does.
#pragma once

#include <optional>
#include <string>

#include "tests/sim/api/objects.h"

namespace kproxy::sim {

// The discovery document for `path`, or nullopt when the path is not a discovery path.
// `server_address` fills serverAddressByClientCIDRs ("127.0.0.1:6443").
std::optional<Json> DiscoveryDocument(const Fixture& fixture, const std::string& path,
                                      const std::string& server_address);

// The aggregated discovery form (apidiscovery.k8s.io v2 or v2beta1, as `accept` prefers) of
// /api or /apis, with its Content-Type; nullopt when the client did not ask for it or the path
// has no aggregated form (then the legacy document answers).
struct AggregatedDocument {
  Json body;
  std::string content_type;
};
std::optional<AggregatedDocument> AggregatedDiscovery(const std::string& path,
                                                      const std::string& accept);

}  // namespace kproxy::sim
