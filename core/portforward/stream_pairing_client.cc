#include "core/portforward/stream_pairing_client.h"

#include "core/portforward/portforward_format.h"

namespace kproxy::portforward {

class StreamPairClient::Handler : public StreamHandler {
 public:
  Handler(StreamPairClient* owner, RequestId id, bool data) : owner_(owner), id_(id), data_(data) {}
  void OnData(std::string_view bytes) override { owner_->OnData(id_, data_, bytes); }
  void OnRemoteClose() override { owner_->OnEnded(id_, data_, false, ""); }
  void OnReset(std::string_view reason) override { owner_->OnEnded(id_, data_, true, reason); }

 private:
  StreamPairClient* owner_;
  RequestId id_;
  bool data_;
};

// One half of a pair: the error stream or the data stream.
struct Half {
  StreamId id = 0;
  bool id_known = false;
  bool opening = false;  // inside OpenStream: a synchronous reply is deferred
  std::optional<Status> deferred;
  bool replied = false;
  bool write_closed = false;
  bool remote_closed = false;
  bool reset = false;
  bool Finished() const { return reset || (write_closed && remote_closed); }
};

struct StreamPairClient::Conn {
  Conn(StreamPairClient* owner, RequestId id)
      : error_handler(owner, id, false), data_handler(owner, id, true) {}
  RequestId id = 0;
  uint16_t remote_port = 0;
  uint16_t local_port = 0;
  ForwardCallbacks callbacks;
  Handler error_handler;
  Handler data_handler;
  Half error;
  Half data;
  std::string error_text;
  bool ready = false;

  std::string Ports() const {
    return std::to_string(local_port) + " -> " + std::to_string(remote_port);
  }
};

StreamPairClient::StreamPairClient(StreamConnection* conn) : conn_(conn) {}

StreamPairClient::~StreamPairClient() {
  for (auto& [id, c] : conns_) ResetUnfinished(c.get());
}

StreamPairClient::Conn* StreamPairClient::Find(RequestId id) {
  auto it = conns_.find(id);
  return it == conns_.end() ? nullptr : it->second.get();
}

RequestId StreamPairClient::Open(uint16_t remote_port, uint16_t local_port,
                                 ForwardCallbacks callbacks) {
  RequestId id = next_id_++;
  auto conn = std::make_unique<Conn>(this, id);
  conn->id = id;
  conn->remote_port = remote_port;
  conn->local_port = local_port;
  conn->callbacks = std::move(callbacks);
  Conn* c = conn.get();
  conns_.emplace(id, std::move(conn));
  OpenStreamOf(c, /*data=*/false);
  return id;
}

void StreamPairClient::OpenStreamOf(Conn* c, bool data) {
  StreamHeaders headers;
  headers.Set(kHeaderStreamType, data ? streamtype::kData : streamtype::kError);
  headers.Set(kHeaderPort, std::to_string(c->remote_port));
  headers.Set(kHeaderRequestId, std::to_string(c->id));
  Half& half = data ? c->data : c->error;
  RequestId id = c->id;
  half.opening = true;
  StreamId sid = conn_->OpenStream(headers, data ? &c->data_handler : &c->error_handler,
                                   [this, id, data](Status s) { OnReply(id, data, s); });
  half.id = sid;
  half.id_known = true;
  half.opening = false;
  if (half.deferred) {
    Status s = *half.deferred;
    half.deferred.reset();
    HandleReply(id, data, s);  // may forget `c`
  }
}

void StreamPairClient::OnReply(RequestId id, bool data, Status status) {
  Conn* c = Find(id);
  if (c == nullptr) return;
  Half& half = data ? c->data : c->error;
  if (half.opening) {  // channel transports reply before OpenStream returns the id
    half.deferred = status;
    return;
  }
  HandleReply(id, data, status);
}

void StreamPairClient::HandleReply(RequestId id, bool data, Status status) {
  Conn* c = Find(id);
  if (c == nullptr) return;
  Half& half = data ? c->data : c->error;
  if (half.replied) return;
  if (!status.ok()) {
    half.reset = true;  // a refused stream is gone
    Fail(id, MakeError(status.error().code, std::string("error creating ") +
                                                (data ? "data" : "error") + " stream for port " +
                                                c->Ports() + ": " + status.error().message));
    return;
  }
  half.replied = true;
  if (!data) {
    // The client never writes on the error stream: close our side at once, as kubectl does.
    c->error.write_closed = true;
    conn_->CloseWrite(c->error.id);
    OpenStreamOf(c, /*data=*/true);
    return;
  }
  c->ready = true;
  if (c->callbacks.on_ready) c->callbacks.on_ready();
}

bool StreamPairClient::Write(RequestId id, std::string_view bytes) {
  Conn* c = Find(id);
  if (c == nullptr || !c->ready || c->data.write_closed || c->data.reset) return false;
  if (bytes.empty()) return true;
  return conn_->Write(c->data.id, bytes);
}

bool StreamPairClient::CloseWrite(RequestId id) {
  Conn* c = Find(id);
  if (c == nullptr || !c->ready || c->data.write_closed || c->data.reset) return false;
  c->data.write_closed = true;
  return conn_->CloseWrite(c->data.id);
}

void StreamPairClient::Close(RequestId id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  std::unique_ptr<Conn> c = std::move(it->second);
  conns_.erase(it);
  ResetUnfinished(c.get());
}

void StreamPairClient::ResetUnfinished(Conn* c) {
  for (Half* h : {&c->error, &c->data}) {
    if (h->id_known && !h->Finished()) {
      h->reset = true;
      conn_->Reset(h->id);
    }
  }
}

void StreamPairClient::OnData(RequestId id, bool data, std::string_view bytes) {
  Conn* c = Find(id);
  if (c == nullptr) return;
  if (data) {
    if (c->callbacks.on_data) c->callbacks.on_data(bytes);
    return;
  }
  if (c->error_text.size() + bytes.size() > kMaxErrorText) {
    Fail(id, MakeError(ErrorCode::kProtocol, "error stream for port " + c->Ports() +
                                                 " sent more than " +
                                                 std::to_string(kMaxErrorText) + " bytes"));
    return;
  }
  c->error_text.append(bytes);
}

void StreamPairClient::OnEnded(RequestId id, bool data, bool reset, std::string_view reason) {
  Conn* c = Find(id);
  if (c == nullptr) return;
  Half& half = data ? c->data : c->error;
  if (reset) {
    half.reset = true;
  } else {
    half.remote_closed = true;
  }
  // Text on the error stream, read to its end, is this connection's error.
  if (!c->error_text.empty() && (c->error.remote_closed || c->error.reset || data)) {
    Fail(id, MakeError(ErrorCode::kServer,
                       "an error occurred forwarding " + c->Ports() + ": " + c->error_text));
    return;
  }
  if (data && reset) {
    Fail(id, MakeError(ErrorCode::kUnavailable, "lost connection to pod: data stream for port " +
                                                    c->Ports() + " reset: " + std::string(reason)));
    return;
  }
  if (data && c->callbacks.on_remote_close) c->callbacks.on_remote_close();
}

void StreamPairClient::Fail(RequestId id, Error error) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  std::unique_ptr<Conn> c = std::move(it->second);
  conns_.erase(it);
  ResetUnfinished(c.get());
  if (c->callbacks.on_error) c->callbacks.on_error(std::move(error));
}

}  // namespace kproxy::portforward
