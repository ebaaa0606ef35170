// The slice of Kubernetes' protobuf encoding the simulator must read: kubectl sends
// SelfSubjectAccessReview / SelfSubjectReview bodies as application/vnd.kubernetes.protobuf
// (magic "k8s\0" + runtime.Unknown{typeMeta, raw}). Decoded into the JSON shape the API code
// already handles; responses are JSON, which kubectl's Accept allows.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/result.h"
#include "tests/sim/api/objects.h"

namespace kproxy::sim {

// Protobuf wire reader over a complete buffer (proto3 wire format: varint and length-
// delimited fields; fixed32/64 are skipped). Stays failed after a malformed field.
class ProtoReader {
 public:
  explicit ProtoReader(std::string_view data) : data_(data) {}
  // Reads the next field; false at the end or on error (check failed()).
  bool Next();
  uint32_t field() const { return field_; }
  int wire_type() const { return wire_type_; }
  uint64_t varint() const { return varint_; }
  std::string_view bytes() const { return bytes_; }
  bool failed() const { return failed_; }

 private:
  bool ReadVarint(uint64_t* out);
  std::string_view data_;
  size_t pos_ = 0;
  uint32_t field_ = 0;
  int wire_type_ = 0;
  uint64_t varint_ = 0;
  std::string_view bytes_;
  bool failed_ = false;
};

struct ProtoEnvelope {
  std::string api_version;
  std::string kind;
  std::string raw;  // the object's own protobuf
};

// Splits "k8s\0" + runtime.Unknown. kProtocol on a missing magic or malformed fields.
Result<ProtoEnvelope> DecodeEnvelope(std::string_view body);

// Decodes a protobuf request body into the JSON form of the object (kind, apiVersion, spec
// for SelfSubjectAccessReview; an empty object for SelfSubjectReview).
Result<Json> DecodeReviewRequest(std::string_view body);

}  // namespace kproxy::sim
