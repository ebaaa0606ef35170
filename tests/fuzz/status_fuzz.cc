// Fuzzes the metav1.Status decoder and the remotecommand error-stream decoders, directly and
// through a client session that receives the payload in pieces.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/k8s/status.h"
#include "core/remotecommand/error_decoder.h"
#include "core/remotecommand/stream_protocol.h"
#include "tests/support/fake_stream_connection.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

void FuzzSession(std::string_view input, kproxy::remotecommand::ProtocolVersion version) {
  using kproxy::remotecommand::ExecCallbacks;
  using kproxy::remotecommand::ExecResult;
  kproxy::test::FakeStreamConnection conn;
  int done = 0;
  ExecCallbacks cb;
  cb.on_done = [&](kproxy::Result<ExecResult> r) {
    ++done;
    if (r.ok()) Check(r->exit_code >= 0 && r->exit_code <= 255);
  };
  auto session = kproxy::remotecommand::NewStreamProtocol(
      version, &conn, {false, true, false, false}, std::move(cb));
  session->Start();
  conn.Reply(1);
  conn.Reply(3);
  // The first byte picks the chunk size, so splits vary with the input.
  size_t step = input.empty() ? 1 : (static_cast<unsigned char>(input[0]) % 16) + 1;
  for (size_t i = 0; i < input.size() && done == 0; i += step)
    conn.Deliver(1, input.substr(i, step));
  if (done == 0) conn.RemoteClose(1);
  if (done == 0) conn.RemoteClose(3);
  Check(done == 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  kproxy::Result<kproxy::k8s::ApiStatus> status = kproxy::k8s::DecodeStatus(input);
  if (status.ok()) {
    (void)kproxy::k8s::KubectlErrorText(*status);
    // Whatever we accept, we can write back and read again.
    kproxy::Result<kproxy::k8s::ApiStatus> again =
        kproxy::k8s::DecodeStatus(kproxy::k8s::EncodeStatus(*status));
    Check(again.ok());
    Check(again->status == status->status && again->reason == status->reason &&
          again->code == status->code);
  }
  for (int v = 1; v <= 5; ++v) {
    auto version = static_cast<kproxy::remotecommand::ProtocolVersion>(v);
    kproxy::Result<kproxy::remotecommand::ExecResult> r =
        kproxy::remotecommand::DecodeErrorStream(version, input);
    if (r.ok()) Check(r->exit_code >= 0 && r->exit_code <= 255);
  }
  FuzzSession(input, kproxy::remotecommand::ProtocolVersion::kV4);
  FuzzSession(input, kproxy::remotecommand::ProtocolVersion::kV2);
  return 0;
}
