#include "tests/sim/streaming/exec_session.h"

#include <errno.h>
#include <unistd.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "core/k8s/status.h"
#include "core/remotecommand/server_streams.h"
#include "tests/sim/streaming/conn_loop.h"

namespace kproxy::sim::streaming {

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kOutputChunk = 32 * 1024;
constexpr size_t kMaxResizeBuffer = 4096;

// A StreamHandler made of callbacks.
class FnHandler : public StreamHandler {
 public:
  std::function<void(std::string_view)> on_data;
  std::function<void()> on_close;
  void OnData(std::string_view bytes) override {
    if (on_data) on_data(bytes);
  }
  void OnRemoteClose() override {
    if (on_close) on_close();
  }
  void OnReset(std::string_view) override {
    if (on_close) on_close();
  }
};

class Session {
 public:
  Session(Conn& conn, ServerTransport& transport, ExecParams params)
      : conn_(conn),
        transport_(transport),
        streams_(*transport.streams()),
        params_(std::move(params)),
        loop_(conn, transport),
        tracker_(params_.version, params_.options) {}

  ExecOutcome Run(const std::string& already_read);

 private:
  bool CollectStreams(const std::string& already_read);
  bool StartProcess();
  void WatchProcess();
  void OnProcessFd(int fd, short revents);
  void PumpStdin();
  void DeliverAttach();
  bool Finished();
  void Finish(int exit_code);
  void Drain();
  void Write(const StreamId* id, std::string_view bytes) {
    if (id && !bytes.empty()) streams_.Write(*id, bytes);
  }

  Conn& conn_;
  ServerTransport& transport_;
  StreamConnection& streams_;
  ExecParams params_;
  ConnLoop loop_;
  remotecommand::StreamTracker tracker_;
  ExecOutcome outcome_;

  FnHandler stdin_handler_, resize_handler_, ignore_handler_;
  std::optional<StreamId> stdout_id_, stderr_id_, error_id_;
  std::unique_ptr<Process> process_;
  AttachSubscriber subscriber_;
  std::string pending_stdin_;
  bool stdin_eof_ = false;
  bool stdin_closed_ = false;
  std::string resize_buffer_;
  std::optional<Clock::time_point> exited_at_;
};

bool Session::CollectStreams(const std::string& already_read) {
  stdin_handler_.on_data = [this](std::string_view b) {
    pending_stdin_.append(b);
    PumpStdin();
  };
  stdin_handler_.on_close = [this] {
    stdin_eof_ = true;
    PumpStdin();
  };
  resize_handler_.on_data = [this](std::string_view b) {
    for (auto [w, h] : ParseResizeEvents(&resize_buffer_, b)) {
      if (process_) process_->Resize(w, h);
      if (params_.attach) params_.attach->Resize(w, h);
    }
  };
  streams_.SetAcceptHandler([this](StreamId id, const StreamHeaders& h) -> StreamHandler* {
    std::string type = h.Get("streamtype");
    if (!tracker_.Add(type, id).ok()) return nullptr;  // not promised, or twice: reset it
    if (type == streamtype::kStdin) return &stdin_handler_;
    if (type == streamtype::kResize) return &resize_handler_;
    if (type == streamtype::kStdout) stdout_id_ = id;
    if (type == streamtype::kStderr) stderr_id_ = id;
    if (type == streamtype::kError) error_id_ = id;
    return &ignore_handler_;
  });
  if (params_.websocket) {
    // Channels need no handshake: the server's channels exist as soon as it writes on them.
    auto open = [this](const char* type) {
      StreamHeaders h;
      h.Set("streamtype", type);
      StreamId id = streams_.OpenStream(h, &ignore_handler_, nullptr);
      (void)tracker_.Add(type, id);
      return id;
    };
    error_id_ = open(streamtype::kError);
    if (params_.options.stdout) stdout_id_ = open(streamtype::kStdout);
    if (params_.options.stderr && !params_.options.tty) stderr_id_ = open(streamtype::kStderr);
    if (auto* ws = dynamic_cast<WsChannelTransport*>(&transport_))
      ws->channels().SendInitialMarker();
  }
  if (!already_read.empty()) {
    if (!transport_.Receive(already_read).ok()) {
      loop_.Flush();
      outcome_.error = "protocol error in the first bytes";
      return false;
    }
  }
  if (params_.websocket) return true;  // stdin/resize channels appear when first used
  auto deadline = Clock::now() + params_.stream_timeout;
  while (!tracker_.Complete()) {
    if (Clock::now() >= deadline) {
      // The kubelet gives up ("timed out waiting for client to create streams") and closes.
      outcome_.error = "timed out waiting for client to create streams";
      return false;
    }
    if (!loop_.RunOnce(100)) {
      outcome_.error = loop_.error().error().message;
      return false;
    }
  }
  return true;
}

bool Session::StartProcess() {
  if (params_.attach) {
    params_.attach->Subscribe(&subscriber_);
    loop_.Watch(subscriber_.wake_fd(), POLLIN, [this](short) { DeliverAttach(); });
    return true;
  }
  auto p = Process::Start(params_.spec);
  if (!p.ok()) {
    outcome_.error = p.error().message;
    return false;
  }
  process_ = std::move(*p);
  WatchProcess();
  return true;
}

void Session::WatchProcess() {
  if (!process_) return;
  int out = process_->stdout_fd(), err = process_->stderr_fd(), in = process_->stdin_fd();
  bool want_out = !pending_stdin_.empty() && !stdin_closed_ && in >= 0;
  auto cb = [this](int fd) { return [this, fd](short rev) { OnProcessFd(fd, rev); }; };
  if (out >= 0) loop_.Watch(out, POLLIN | (want_out && in == out ? POLLOUT : 0), cb(out));
  if (err >= 0) loop_.Watch(err, POLLIN, cb(err));
  if (in >= 0 && in != out) {
    if (want_out)
      loop_.Watch(in, POLLOUT, cb(in));
    else
      loop_.Unwatch(in);
  }
}

void Session::OnProcessFd(int fd, short revents) {
  if (!process_) return;
  if ((revents & POLLOUT) && fd == process_->stdin_fd()) PumpStdin();
  bool is_out = fd == process_->stdout_fd();
  bool is_err = fd == process_->stderr_fd();
  if (!is_out && !is_err) return;
  if (!(revents & (POLLIN | POLLHUP | POLLERR))) return;
  char buf[kOutputChunk];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n > 0) {
    Write(is_out ? (stdout_id_ ? &*stdout_id_ : nullptr) : (stderr_id_ ? &*stderr_id_ : nullptr),
          std::string_view(buf, static_cast<size_t>(n)));
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  // EOF on a pipe, EIO on a pty master once every slave holder is gone.
  loop_.Unwatch(fd);
  process_->CloseOutput(fd);
}

void Session::PumpStdin() {
  while (!pending_stdin_.empty()) {
    ssize_t n = -1;
    if (process_)
      n = process_->WriteStdin(pending_stdin_);
    else if (params_.attach)
      n = params_.attach->WriteStdin(pending_stdin_);
    else
      return;  // not started yet: keep it
    if (n < 0) {
      pending_stdin_.clear();  // the process closed its stdin; input is lost, as with a pipe
      break;
    }
    if (n == 0) break;
    pending_stdin_.erase(0, static_cast<size_t>(n));
  }
  if (stdin_eof_ && pending_stdin_.empty() && !stdin_closed_ && process_) {
    // Attach does not close the shared process's stdin: containers without stdinOnce keep it.
    stdin_closed_ = true;
    process_->CloseStdin();
  }
  loop_.PauseReads(pending_stdin_.size() > params_.max_pending_stdin);
  WatchProcess();
}

void Session::DeliverAttach() {
  for (AttachSubscriber::Chunk& c : subscriber_.Take()) {
    const StreamId* id = c.is_stderr && !params_.options.tty
                             ? (stderr_id_ ? &*stderr_id_ : nullptr)
                             : (stdout_id_ ? &*stdout_id_ : nullptr);
    Write(id, c.data);
  }
}

bool Session::Finished() {
  if (params_.attach) {
    if (!subscriber_.exit_code()) return false;
    DeliverAttach();
    return true;
  }
  if (!process_->Poll()) return false;
  if (!exited_at_) exited_at_ = Clock::now();
  bool outputs_open = process_->stdout_fd() >= 0 || process_->stderr_fd() >= 0;
  // Background children may hold the output open: a short grace, then end anyway.
  return !outputs_open || Clock::now() - *exited_at_ > std::chrono::milliseconds(300);
}

void Session::Finish(int exit_code) {
  outcome_.exit_code = exit_code;
  const std::vector<std::string>& command =
      params_.attach ? params_.attach->command() : params_.spec.argv;
  k8s::ApiStatus status =
      exit_code == 0 ? k8s::SuccessStatus() : k8s::NonZeroExitCodeStatus(exit_code, command);
  bool spdy = !params_.websocket;
  if (spdy) {
    // Output streams end before the status so the client's copies see a clean EOF.
    if (stdout_id_) streams_.CloseWrite(*stdout_id_);
    if (stderr_id_) streams_.CloseWrite(*stderr_id_);
  }
  if (error_id_) {
    if (spdy) {
      outcome_.status_written =
          remotecommand::WriteFinalStatus(&streams_, *error_id_, params_.version, status).ok();
    } else {
      // WebSocket: the Status, then close 1000 (no close signal from the server).
      streams_.Write(*error_id_, remotecommand::ErrorStreamPayload(params_.version, status));
      outcome_.status_written = true;
    }
  }
  transport_.End();
  loop_.Flush();
}

void Session::Drain() {
  // Closing with unread client bytes would send a TCP RST that can destroy the status in
  // flight: half-close, then read until the client closes (bounded).
  conn_.ShutdownWrite();
  char buf[4096];
  auto deadline = Clock::now() + std::chrono::seconds(2);
  while (Clock::now() < deadline) {
    ssize_t n = conn_.Read(buf, sizeof buf, 100);
    if (n == 0 || n == -1) break;
  }
}

ExecOutcome Session::Run(const std::string& already_read) {
  if (!CollectStreams(already_read)) {
    transport_.End();
    loop_.Flush();
    return outcome_;
  }
  outcome_.streams_complete = true;
  if (!StartProcess()) {
    k8s::ApiStatus st = k8s::FailureStatus(k8s::kReasonInternalError,
                                           "Internal error occurred: " + outcome_.error, 500);
    if (error_id_) remotecommand::WriteFinalStatus(&streams_, *error_id_, params_.version, st);
    transport_.End();
    loop_.Flush();
    return outcome_;
  }
  PumpStdin();  // input that arrived with the streams
  while (true) {
    if (params_.attach && !pending_stdin_.empty()) PumpStdin();  // the shared stdin was full
    if (!loop_.RunOnce(50)) {
      if (outcome_.error.empty()) outcome_.error = loop_.error().error().message;
      break;
    }
    if (transport_.PeerClosed()) {
      outcome_.error = "client ended the session";
      transport_.End();
      loop_.Flush();
      break;
    }
    if (Finished()) {
      Finish(params_.attach ? *subscriber_.exit_code() : *process_->exit_code());
      Drain();
      break;
    }
  }
  if (params_.attach) params_.attach->Unsubscribe(&subscriber_);
  if (process_) process_->Kill();
  return outcome_;
}

}  // namespace

std::vector<std::pair<uint16_t, uint16_t>> ParseResizeEvents(std::string* buffer,
                                                             std::string_view bytes) {
  std::vector<std::pair<uint16_t, uint16_t>> out;
  buffer->append(bytes);
  size_t end;
  // client-go writes one flat JSON object per event (json.Encoder: "{…}\n").
  while ((end = buffer->find('}')) != std::string::npos) {
    std::string object = buffer->substr(0, end + 1);
    buffer->erase(0, end + 1);
    nlohmann::json j = nlohmann::json::parse(object, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) continue;
    auto w = j.find("Width"), h = j.find("Height");
    if (w == j.end() || h == j.end() || !w->is_number_unsigned() || !h->is_number_unsigned())
      continue;
    uint64_t wv = w->get<uint64_t>(), hv = h->get<uint64_t>();
    if (wv > 0xFFFF || hv > 0xFFFF) continue;
    out.emplace_back(static_cast<uint16_t>(wv), static_cast<uint16_t>(hv));
  }
  if (buffer->size() > kMaxResizeBuffer) buffer->clear();  // garbage without a '}'
  return out;
}

ExecOutcome RunExecSession(Conn& conn, ServerTransport& transport, const std::string& already_read,
                           ExecParams params) {
  Session s(conn, transport, std::move(params));
  return s.Run(already_read);
}

}  // namespace kproxy::sim::streaming
