// The five remotecommand client versions; each changes only what differs from the previous
// one (client-go tools/remotecommand v1.go ... v5.go).
#pragma once

#include "core/remotecommand/stream_protocol.h"

namespace kproxy::remotecommand {

// channel.k8s.io: plain-text error stream, stdin never half-closed, no resize.
class StreamProtocolV1 : public StreamProtocol {
 public:
  using StreamProtocol::StreamProtocol;
  ProtocolVersion version() const override { return ProtocolVersion::kV1; }

 protected:
  bool HasResizeStream() const override { return false; }
  bool HalfClosesStdin() const override { return false; }
  Result<ExecResult> DecodeError(std::string_view payload) const override;
};

// v2.channel.k8s.io: stdin is half-closed at EOF.
class StreamProtocolV2 : public StreamProtocol {
 public:
  using StreamProtocol::StreamProtocol;
  ProtocolVersion version() const override { return ProtocolVersion::kV2; }

 protected:
  bool HasResizeStream() const override { return false; }
  bool HalfClosesStdin() const override { return true; }
  Result<ExecResult> DecodeError(std::string_view payload) const override;
};

// v3.channel.k8s.io: v2 + a resize stream with a tty.
class StreamProtocolV3 : public StreamProtocolV2 {
 public:
  using StreamProtocolV2::StreamProtocolV2;
  ProtocolVersion version() const override { return ProtocolVersion::kV3; }

 protected:
  bool HasResizeStream() const override { return true; }
};

// v4.channel.k8s.io: v3 + metav1.Status JSON on the error stream (exit codes).
class StreamProtocolV4 : public StreamProtocolV3 {
 public:
  using StreamProtocolV3::StreamProtocolV3;
  ProtocolVersion version() const override { return ProtocolVersion::kV4; }

 protected:
  Result<ExecResult> DecodeError(std::string_view payload) const override;
};

// v5.channel.k8s.io: v4; the stdin close signal is the WebSocket transport's CloseWrite.
class StreamProtocolV5 : public StreamProtocolV4 {
 public:
  using StreamProtocolV4::StreamProtocolV4;
  ProtocolVersion version() const override { return ProtocolVersion::kV5; }
};

}  // namespace kproxy::remotecommand
