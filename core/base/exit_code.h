// The one place that decides kproxy's process exit status (listed in README.md).
#pragma once

#include "core/base/result.h"

namespace kproxy {

// Exit statuses. 0 is success; a remote command's own exit status N (0-255) is passed
// through by exec/attach, as kubectl does. kproxy's own failures use sysexits-style values
// so scripts can tell them apart from common remote exit codes.
namespace exit_status {
inline constexpr int kOk = 0;
inline constexpr int kError = 1;            // generic / Error from server (kubectl's 1)
inline constexpr int kUsage = 64;           // EX_USAGE: bad flags or arguments
inline constexpr int kNotFound = 66;        // EX_NOINPUT: object or file not found
inline constexpr int kUnavailable = 69;     // EX_UNAVAILABLE: cannot reach the server
inline constexpr int kInternal = 70;        // EX_SOFTWARE: a bug in kproxy
inline constexpr int kTimeout = 75;         // EX_TEMPFAIL: a bounded wait ran out
inline constexpr int kProtocol = 76;        // EX_PROTOCOL: the peer broke the protocol
inline constexpr int kForbidden = 77;       // EX_NOPERM: 403 (RBAC or proxy policy)
inline constexpr int kConfig = 78;          // EX_CONFIG: kubeconfig/configuration invalid
inline constexpr int kUnauthenticated = 80; // session rejected and could not be renewed
inline constexpr int kLoginRequired = 81;   // non-interactive: run `kproxy login` first
inline constexpr int kUpgradeRejected = 82; // no streaming protocol could be negotiated
inline constexpr int kCancelled = 130;      // interrupted (128 + SIGINT)
}  // namespace exit_status

int ExitStatusFor(ErrorCode code);

// Every documented exit status with its meaning (the man page prints this table; a test checks
// that README.md lists each one).
struct ExitStatusDoc {
  int status;
  const char* meaning;
};
inline constexpr ExitStatusDoc kExitStatusDocs[] = {
    {exit_status::kOk, "success"},
    {exit_status::kError, "error from the server or other failure (kubectl's generic 1)"},
    {exit_status::kUsage, "usage: bad flags or arguments"},
    {exit_status::kNotFound, "not found (object, context or file)"},
    {exit_status::kUnavailable, "server unreachable, connection lost, TLS failure"},
    {exit_status::kInternal, "internal error in kproxy"},
    {exit_status::kTimeout, "a bounded wait timed out"},
    {exit_status::kProtocol, "protocol error from the peer"},
    {exit_status::kForbidden, "forbidden (403: RBAC or access-proxy policy)"},
    {exit_status::kConfig, "configuration invalid (kubeconfig, flags)"},
    {exit_status::kUnauthenticated, "session rejected and could not be renewed"},
    {exit_status::kLoginRequired, "non-interactive: an interactive `kproxy login` is needed first"},
    {exit_status::kUpgradeRejected, "no streaming protocol could be negotiated (upgrade refused)"},
    {exit_status::kCancelled, "interrupted (Ctrl-C)"},
};

}  // namespace kproxy
