// Wire constants of portforward.k8s.io (k8s.io/api/core/v1/types.go, kubelet
// cri/streaming/portforward/httpstream.go).
#pragma once

#include <chrono>

namespace kproxy::portforward {

inline constexpr const char* kProtocolName = "portforward.k8s.io";
inline constexpr const char* kHeaderStreamType = "streamtype";
inline constexpr const char* kHeaderPort = "port";
inline constexpr const char* kHeaderRequestId = "requestid";

// The kubelet gives up on an incomplete error/data pair after its stream creation timeout.
inline constexpr std::chrono::seconds kStreamCreationTimeout{30};

// Bound on the error text buffered per connection; servers write one short line.
inline constexpr size_t kMaxErrorText = 64 * 1024;

}  // namespace kproxy::portforward
