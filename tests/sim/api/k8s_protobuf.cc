#include "tests/sim/api/k8s_protobuf.h"

namespace kproxy::sim {

namespace {

constexpr std::string_view kMagic("k8s\0",
                                  4);  // k8s.io/apimachinery/pkg/runtime/serializer/protobuf

Error Bad(const std::string& why) {
  return MakeError(ErrorCode::kProtocol, "protobuf body: " + why);
}

// ResourceAttributes field numbers (k8s.io/api/authorization/v1/generated.proto).
const char* ResourceAttributeName(uint32_t field) {
  switch (field) {
    case 1:
      return "namespace";
    case 2:
      return "verb";
    case 3:
      return "group";
    case 4:
      return "version";
    case 5:
      return "resource";
    case 6:
      return "subresource";
    case 7:
      return "name";
    default:
      return nullptr;
  }
}

// Reads the string fields of a flat message into `out` using `name_of`.
bool StringFields(std::string_view msg, const char* (*name_of)(uint32_t), Json* out) {
  ProtoReader r(msg);
  while (r.Next()) {
    const char* name = name_of(r.field());
    if (name && r.wire_type() == 2) (*out)[name] = std::string(r.bytes());
  }
  return !r.failed();
}

const char* NonResourceAttributeName(uint32_t field) {
  return field == 1 ? "path" : field == 2 ? "verb" : nullptr;
}

}  // namespace

bool ProtoReader::ReadVarint(uint64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= data_.size()) return false;
    uint8_t b = static_cast<uint8_t>(data_[pos_++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return true;
    }
  }
  return false;  // more than 10 bytes: malformed
}

bool ProtoReader::Next() {
  if (failed_ || pos_ >= data_.size()) return false;
  uint64_t key;
  if (!ReadVarint(&key) || (key >> 3) == 0 || (key >> 3) > 0x1fffffff) {
    failed_ = true;
    return false;
  }
  field_ = static_cast<uint32_t>(key >> 3);
  wire_type_ = static_cast<int>(key & 7);
  bytes_ = {};
  varint_ = 0;
  switch (wire_type_) {
    case 0:
      if (!ReadVarint(&varint_)) failed_ = true;
      break;
    case 1:
    case 5: {
      size_t n = wire_type_ == 1 ? 8 : 4;
      if (data_.size() - pos_ < n)
        failed_ = true;
      else
        pos_ += n;
      break;
    }
    case 2: {
      uint64_t len;
      if (!ReadVarint(&len) || len > data_.size() - pos_) {
        failed_ = true;
        break;
      }
      bytes_ = data_.substr(pos_, len);
      pos_ += len;
      break;
    }
    default:
      failed_ = true;  // groups (3, 4) are not used by Kubernetes; 6, 7 do not exist
  }
  return !failed_;
}

Result<ProtoEnvelope> DecodeEnvelope(std::string_view body) {
  if (body.substr(0, kMagic.size()) != kMagic) return Bad("missing k8s magic");
  ProtoEnvelope env;
  ProtoReader r(body.substr(kMagic.size()));
  while (r.Next()) {
    if (r.field() == 1 && r.wire_type() == 2) {  // TypeMeta
      ProtoReader t(r.bytes());
      while (t.Next()) {
        if (t.wire_type() != 2) continue;
        if (t.field() == 1) env.api_version = std::string(t.bytes());
        if (t.field() == 2) env.kind = std::string(t.bytes());
      }
      if (t.failed()) return Bad("malformed TypeMeta");
    } else if (r.field() == 2 && r.wire_type() == 2) {
      env.raw = std::string(r.bytes());
    }
  }
  if (r.failed()) return Bad("malformed envelope");
  if (env.kind.empty()) return Bad("envelope has no kind");
  return env;
}

Result<Json> DecodeReviewRequest(std::string_view body) {
  auto env = DecodeEnvelope(body);
  if (!env) return env.error();
  Json out;
  out["kind"] = env->kind;
  out["apiVersion"] = env->api_version;
  if (env->kind == "SelfSubjectReview") return out;
  if (env->kind != "SelfSubjectAccessReview") return Bad("unsupported kind " + env->kind);
  Json spec = Json::object();
  ProtoReader r(env->raw);
  while (r.Next()) {
    if (r.field() != 2 || r.wire_type() != 2) continue;  // spec
    ProtoReader s(r.bytes());
    while (s.Next()) {
      if (s.wire_type() != 2) continue;
      Json attrs = Json::object();
      if (s.field() == 1) {
        if (!StringFields(s.bytes(), ResourceAttributeName, &attrs))
          return Bad("malformed resourceAttributes");
        spec["resourceAttributes"] = attrs;
      } else if (s.field() == 2) {
        if (!StringFields(s.bytes(), NonResourceAttributeName, &attrs))
          return Bad("malformed nonResourceAttributes");
        spec["nonResourceAttributes"] = attrs;
      }
    }
    if (s.failed()) return Bad("malformed spec");
  }
  if (r.failed()) return Bad("malformed SelfSubjectAccessReview");
  out["spec"] = spec;
  return out;
}

}  // namespace kproxy::sim
