#include "core/k8s/status.h"

#include <cctype>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>

namespace kproxy::k8s {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 64;

Error ProtocolError(std::string message) {
  return MakeError(ErrorCode::kProtocol, std::move(message));
}

// nlohmann's parser is iterative but its values are recursive structures; refusing deep
// nesting up front bounds both stack and memory for hostile input.
bool NestingWithin(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

bool EqualFoldAscii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// Go's json.Unmarshal matches keys exactly first, then case-insensitively.
const json* Field(const json& object, std::string_view name) {
  auto it = object.find(std::string(name));
  if (it != object.end()) return &*it;
  for (auto i = object.begin(); i != object.end(); ++i)
    if (EqualFoldAscii(i.key(), name)) return &*i;
  return nullptr;
}

std::string TypeName(const json& value) {
  if (value.is_number()) return "number";
  if (value.is_boolean()) return "bool";
  return value.type_name();
}

// Each reader leaves the target untouched for a missing field or null (as Go does) and
// fails for a value of the wrong type.
Status ReadString(const json& object, std::string_view name, std::string* out) {
  const json* v = Field(object, name);
  if (v == nullptr || v->is_null()) return Status::Ok();
  if (!v->is_string())
    return ProtocolError("cannot unmarshal " + TypeName(*v) + " into field \"" + std::string(name) +
                         "\" of type string");
  *out = v->get<std::string>();
  return Status::Ok();
}

Status ReadInt32(const json& object, std::string_view name, int* out) {
  const json* v = Field(object, name);
  if (v == nullptr || v->is_null()) return Status::Ok();
  const std::string bad = "cannot unmarshal " + TypeName(*v) + " into field \"" +
                          std::string(name) + "\" of type int32";
  if (v->is_number_integer()) {
    if (v->is_number_unsigned()) {
      uint64_t u = v->get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) return ProtocolError(bad);
      *out = static_cast<int>(u);
      return Status::Ok();
    }
    int64_t i = v->get<int64_t>();
    if (i < std::numeric_limits<int32_t>::min() || i > std::numeric_limits<int32_t>::max())
      return ProtocolError(bad);
    *out = static_cast<int>(i);
    return Status::Ok();
  }
  return ProtocolError(bad);
}

Status ReadCause(const json& value, StatusCause* cause) {
  if (value.is_null()) return Status::Ok();
  if (!value.is_object())
    return ProtocolError("cannot unmarshal " + TypeName(value) + " into a status cause");
  for (auto [name, target] :
       {std::pair{"reason", &cause->reason}, std::pair{"message", &cause->message},
        std::pair{"field", &cause->field}}) {
    Status s = ReadString(value, name, target);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status ReadDetails(const json& value, StatusDetails* details) {
  if (!value.is_object())
    return ProtocolError("cannot unmarshal " + TypeName(value) + " into field \"details\"");
  for (auto [name, target] :
       {std::pair{"name", &details->name}, std::pair{"group", &details->group},
        std::pair{"kind", &details->kind}, std::pair{"uid", &details->uid}}) {
    Status s = ReadString(value, name, target);
    if (!s.ok()) return s;
  }
  Status s = ReadInt32(value, "retryAfterSeconds", &details->retry_after_seconds);
  if (!s.ok()) return s;
  const json* causes = Field(value, "causes");
  if (causes == nullptr || causes->is_null()) return Status::Ok();
  if (!causes->is_array())
    return ProtocolError("cannot unmarshal " + TypeName(*causes) + " into field \"causes\"");
  for (const json& c : *causes) {
    StatusCause cause;
    s = ReadCause(c, &cause);
    if (!s.ok()) return s;
    details->causes.push_back(std::move(cause));
  }
  return Status::Ok();
}

// Go's encoder escapes these even inside strings (HTMLEscape); the simulator must match.
std::string GoHtmlEscape(const std::string& in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < in.size() && in[i + 1] == '\x80' &&
               (in[i + 2] == '\xA8' || in[i + 2] == '\xA9')) {
      out += in[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Result<ApiStatus> DecodeStatus(std::string_view text) {
  if (text.size() > kMaxStatusBytes)
    return ProtocolError("status too large: " + std::to_string(text.size()) + " bytes");
  if (!NestingWithin(text, kMaxDepth)) return ProtocolError("status nested too deeply");
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " tag.
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    return ProtocolError(what);
  }
  ApiStatus status;
  if (doc.is_null()) return status;
  if (!doc.is_object()) return ProtocolError("cannot unmarshal " + TypeName(doc) + " into Status");
  for (auto [name, target] :
       {std::pair{"kind", &status.kind}, std::pair{"apiVersion", &status.api_version},
        std::pair{"status", &status.status}, std::pair{"message", &status.message},
        std::pair{"reason", &status.reason}}) {
    Status s = ReadString(doc, name, target);
    if (!s.ok()) return s.error();
  }
  Status s = ReadInt32(doc, "code", &status.code);
  if (!s.ok()) return s.error();
  if (const json* meta = Field(doc, "metadata"); meta != nullptr && !meta->is_null()) {
    if (!meta->is_object())
      return ProtocolError("cannot unmarshal " + TypeName(*meta) + " into field \"metadata\"");
    status.has_metadata = true;
  }
  if (const json* details = Field(doc, "details"); details != nullptr && !details->is_null()) {
    StatusDetails d;
    s = ReadDetails(*details, &d);
    if (!s.ok()) return s.error();
    status.details = std::move(d);
  }
  return status;
}

std::string KubectlErrorText(const ApiStatus& status) {
  if (status.reason == kReasonUnauthorized)
    return "error: You must be logged in to the server (" + status.message + ")";
  if (!status.reason.empty()) return "Error from server (" + status.reason + "): " + status.message;
  return "Error from server: " + status.message;
}

std::string EncodeStatus(const ApiStatus& status) {
  // Field order and omitempty follow metav1.Status's struct tags.
  nlohmann::ordered_json j;
  if (!status.kind.empty()) j["kind"] = status.kind;
  if (!status.api_version.empty()) j["apiVersion"] = status.api_version;
  j["metadata"] = nlohmann::ordered_json::object();
  if (!status.status.empty()) j["status"] = status.status;
  if (!status.message.empty()) j["message"] = status.message;
  if (!status.reason.empty()) j["reason"] = status.reason;
  if (status.details) {
    const StatusDetails& d = *status.details;
    nlohmann::ordered_json dj = nlohmann::ordered_json::object();
    if (!d.name.empty()) dj["name"] = d.name;
    if (!d.group.empty()) dj["group"] = d.group;
    if (!d.kind.empty()) dj["kind"] = d.kind;
    if (!d.uid.empty()) dj["uid"] = d.uid;
    if (!d.causes.empty()) {
      nlohmann::ordered_json causes = nlohmann::ordered_json::array();
      for (const StatusCause& c : d.causes) {
        nlohmann::ordered_json cj = nlohmann::ordered_json::object();
        if (!c.reason.empty()) cj["reason"] = c.reason;
        if (!c.message.empty()) cj["message"] = c.message;
        if (!c.field.empty()) cj["field"] = c.field;
        causes.push_back(std::move(cj));
      }
      dj["causes"] = std::move(causes);
    }
    if (d.retry_after_seconds != 0) dj["retryAfterSeconds"] = d.retry_after_seconds;
    j["details"] = std::move(dj);
  }
  if (status.code != 0) j["code"] = status.code;
  // Invalid UTF-8 becomes U+FFFD, as Go's encoder does, instead of throwing.
  return GoHtmlEscape(j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

ApiStatus SuccessStatus() {
  ApiStatus s;
  s.has_metadata = true;
  s.status = kStatusSuccess;
  return s;
}

ApiStatus NonZeroExitCodeStatus(int exit_code, const std::vector<std::string>& command) {
  // The CRI runtime's CodeExitError text ("error executing command %v, exit code %d", Go's %v
  // of a []string being "[a b c]"), wrapped by the kubelet.
  std::string argv = "[";
  for (size_t i = 0; i < command.size(); ++i) {
    if (i) argv += ' ';
    argv += command[i];
  }
  argv += "]";
  ApiStatus s;
  s.has_metadata = true;
  s.status = kStatusFailure;
  s.reason = kReasonNonZeroExitCode;
  s.message = "command terminated with non-zero exit code: error executing command " + argv +
              ", exit code " + std::to_string(exit_code);
  s.details = StatusDetails{};
  s.details->causes.push_back({kCauseExitCode, std::to_string(exit_code), ""});
  return s;
}

ApiStatus FailureStatus(std::string reason, std::string message, int code) {
  ApiStatus s;
  s.has_metadata = true;
  s.status = kStatusFailure;
  s.reason = std::move(reason);
  s.message = std::move(message);
  s.code = code;
  return s;
}

}  // namespace kproxy::k8s
