#include "tests/support/fake_stream_connection.h"

#include <stdexcept>

namespace kproxy::test {

FakeStreamConnection::FakeStreamConnection() : FakeStreamConnection(Options{}) {}

FakeStreamConnection::FakeStreamConnection(Options options)
    : options_(options), next_id_(options.first_id) {}

StreamId FakeStreamConnection::OpenStream(const StreamHeaders& headers, StreamHandler* handler,
                                          std::function<void(Status)> on_reply) {
  StreamId id = next_id_;
  next_id_ += options_.id_step;
  Stream s;
  s.id = id;
  s.headers = headers;
  s.handler = handler;
  s.on_reply = std::move(on_reply);
  streams_.push_back(std::move(s));
  calls_.push_back({Call::Kind::kOpen, id, headers.Get("streamtype")});
  if (options_.reply_synchronously) Reply(id);
  return id;
}

bool FakeStreamConnection::Write(StreamId id, std::string_view bytes) {
  calls_.push_back({Call::Kind::kWrite, id, std::string(bytes)});
  Stream* s = Find(id);
  if (s == nullptr || s->write_closed || s->reset) return false;
  s->written.append(bytes);
  buffered_ += bytes.size();
  return true;
}

bool FakeStreamConnection::CloseWrite(StreamId id) {
  calls_.push_back({Call::Kind::kCloseWrite, id, ""});
  Stream* s = Find(id);
  if (!options_.supports_half_close || s == nullptr || s->write_closed || s->reset) return false;
  s->write_closed = true;
  return true;
}

void FakeStreamConnection::Reset(StreamId id) {
  calls_.push_back({Call::Kind::kReset, id, ""});
  if (Stream* s = Find(id)) s->reset = true;
}

FakeStreamConnection::Stream* FakeStreamConnection::Find(StreamId id) {
  for (Stream& s : streams_)
    if (s.id == id) return &s;
  return nullptr;
}

FakeStreamConnection::Stream* FakeStreamConnection::FindByType(
    std::string_view type, std::optional<std::string> request_id) {
  for (auto it = streams_.rbegin(); it != streams_.rend(); ++it) {
    if (!it->local || it->headers.Get("streamtype") != type) continue;
    if (request_id && it->headers.Get("requestid") != *request_id) continue;
    return &*it;
  }
  return nullptr;
}

std::vector<std::string> FakeStreamConnection::OpenedTypes() const {
  std::vector<std::string> types;
  for (const Stream& s : streams_)
    if (s.local) types.push_back(s.headers.Get("streamtype"));
  return types;
}

size_t FakeStreamConnection::PendingReplies() const {
  size_t n = 0;
  for (const Stream& s : streams_)
    if (s.local && !s.replied) ++n;
  return n;
}

void FakeStreamConnection::Reply(StreamId id, Status status) {
  Stream* s = Find(id);
  if (s == nullptr || s->replied)
    throw std::logic_error("fake: no unreplied stream " + std::to_string(id));
  s->replied = true;
  // Copy: the callback may open streams, which reallocates streams_.
  auto on_reply = std::move(s->on_reply);
  if (!status.ok()) s->reset = true;
  if (on_reply) on_reply(status);
}

void FakeStreamConnection::Deliver(StreamId id, std::string_view bytes) {
  Stream* s = Find(id);
  if (s == nullptr || s->handler == nullptr || s->reset)
    throw std::logic_error("fake: cannot deliver on stream " + std::to_string(id));
  s->handler->OnData(bytes);
}

void FakeStreamConnection::RemoteClose(StreamId id) {
  Stream* s = Find(id);
  if (s == nullptr || s->handler == nullptr || s->reset)
    throw std::logic_error("fake: cannot close stream " + std::to_string(id));
  s->handler->OnRemoteClose();
}

void FakeStreamConnection::RemoteReset(StreamId id, std::string_view reason) {
  Stream* s = Find(id);
  if (s == nullptr || s->handler == nullptr || s->reset)
    throw std::logic_error("fake: cannot reset stream " + std::to_string(id));
  s->reset = true;
  s->handler->OnReset(reason);
}

bool FakeStreamConnection::PeerOpen(StreamId id, const StreamHeaders& headers) {
  Stream s;
  s.id = id;
  s.headers = headers;
  s.local = false;
  s.replied = true;
  s.handler = accept_ ? accept_(id, headers) : nullptr;
  bool accepted = s.handler != nullptr;
  s.reset = !accepted;
  streams_.push_back(std::move(s));
  return accepted;
}

}  // namespace kproxy::test
