// Wire constants of the Kubernetes WebSocket channel protocols (k8s.io/apimachinery
// pkg/util/httpstream/wsstream and client-go tools/remotecommand; protocols.md §2, §6).
#pragma once

#include <cstddef>
#include <cstdint>

namespace kproxy::ws {

inline constexpr const char* kProtocolV5 = "v5.channel.k8s.io";
inline constexpr const char* kProtocolV4 = "v4.channel.k8s.io";
inline constexpr const char* kProtocolV1 = "channel.k8s.io";
inline constexpr const char* kProtocolBase64 = "base64.channel.k8s.io";
inline constexpr const char* kProtocolV4Base64 = "v4.base64.channel.k8s.io";

// remotecommand channel numbers (one byte at the start of every message).
inline constexpr uint8_t kChannelStdin = 0;
inline constexpr uint8_t kChannelStdout = 1;
inline constexpr uint8_t kChannelStderr = 2;
inline constexpr uint8_t kChannelError = 3;
inline constexpr uint8_t kChannelResize = 4;
// v5 only: payload is exactly one byte, the channel being half-closed (FF 00 = stdin EOF).
inline constexpr uint8_t kChannelClose = 255;

// Servers read one frame per message; a continuation frame would be misread as a new channel
// byte, so every message (channel byte included) is kept within 32 KiB and unfragmented.
inline constexpr size_t kMaxMessageBytes = 32 * 1024;

}  // namespace kproxy::ws
