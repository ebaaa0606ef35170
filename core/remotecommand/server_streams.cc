#include "core/remotecommand/server_streams.h"

#include <algorithm>

namespace kproxy::remotecommand {

std::vector<std::string> ExpectedStreamTypes(ProtocolVersion version,
                                             const StreamOptions& options) {
  std::vector<std::string> types{streamtype::kError};
  if (options.stdin) types.emplace_back(streamtype::kStdin);
  if (options.stdout) types.emplace_back(streamtype::kStdout);
  if (options.stderr && !options.tty) types.emplace_back(streamtype::kStderr);
  if (options.tty && version >= ProtocolVersion::kV3) types.emplace_back(streamtype::kResize);
  return types;
}

StreamTracker::StreamTracker(ProtocolVersion version, const StreamOptions& options)
    : expected_(ExpectedStreamTypes(version, options)) {}

Status StreamTracker::Add(const std::string& type, StreamId id) {
  if (std::find(expected_.begin(), expected_.end(), type) == expected_.end())
    return MakeError(ErrorCode::kProtocol, "unexpected stream type: \"" + type + "\"");
  if (!arrived_.emplace(type, id).second)
    return MakeError(ErrorCode::kProtocol, "duplicate stream type: \"" + type + "\"");
  return Status::Ok();
}

bool StreamTracker::Complete() const { return arrived_.size() == expected_.size(); }

std::vector<std::string> StreamTracker::Missing() const {
  std::vector<std::string> missing;
  for (const std::string& t : expected_)
    if (!arrived_.count(t)) missing.push_back(t);
  return missing;
}

const StreamId* StreamTracker::Find(const std::string& type) const {
  auto it = arrived_.find(type);
  return it == arrived_.end() ? nullptr : &it->second;
}

std::string ErrorStreamPayload(ProtocolVersion version, const k8s::ApiStatus& status) {
  if (version >= ProtocolVersion::kV4) return k8s::EncodeStatus(status);
  // v1WriteStatusFunc: nothing on success, else StatusError.Error() (the message).
  if (status.status == k8s::kStatusSuccess) return "";
  return status.message;
}

Status WriteFinalStatus(StreamConnection* conn, StreamId error_stream, ProtocolVersion version,
                        const k8s::ApiStatus& status) {
  std::string payload = ErrorStreamPayload(version, status);
  if (!payload.empty() && !conn->Write(error_stream, payload))
    return MakeError(ErrorCode::kUnavailable, "error stream is closed");
  conn->CloseWrite(error_stream);
  return Status::Ok();
}

}  // namespace kproxy::remotecommand
