// Client side of the HTTP/1.1 upgrade (protocols.md §1): building the WebSocket and SPDY upgrade
// requests and the exec/attach query, and validating the 101. No I/O; randomness (the
// Sec-WebSocket-Key bytes) is injected.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/result.h"
#include "core/transport/http_response_parser.h"

namespace kproxy::http {

inline constexpr const char* kAcceptHeaderValue = "application/json, */*";
// RFC 6455 §1.3.
inline constexpr const char* kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

// Go's url.QueryEscape: unreserved bytes kept, space → '+', everything else %XX (upper case).
std::string QueryEscape(std::string_view s);

struct ExecQuery {
  std::vector<std::string> command;  // one `command=` per argv element, order kept
  std::string container;             // omitted when empty
  bool use_stdin = false, use_stdout = false, use_stderr = false,
       tty = false;  // sent only when true
};
// "command=…&container=…&stderr=true&stdin=true&stdout=true&tty=true" (keys sorted, as
// url.Values.Encode does); no leading '?'.
std::string BuildExecQuery(const ExecQuery& q);

struct UpgradeRequestParams {
  std::string host;        // Host header value ("api.example:6443")
  std::string target;      // path + query ("/api/v1/namespaces/ns/pods/p/exec?…")
  std::string user_agent;  // must contain "kubernetes/" (access proxies then answer JSON)
  // Offered subprotocols (WebSocket: one comma-joined line) or versions (SPDY: one line each).
  std::vector<std::string> protocols;
  // Extra fields in order (Authorization, Impersonate-User, Impersonate-Group…).
  std::vector<std::pair<std::string, std::string>> extra_headers;
};

// "kproxy/<version> (<os>/<arch>) kubernetes/<commit>": contains "kubernetes/" so access proxies
// (Pomerium) answer errors as Status JSON rather than HTML sign-in pages.
std::string DefaultUserAgent(std::string_view version, std::string_view commit = "unknown");

// base64 of 16 bytes (from the caller's CSPRNG): the Sec-WebSocket-Key.
std::string WebSocketKeyFromBytes(const std::array<uint8_t, 16>& random_bytes);
// base64(SHA1(key + GUID)): the Sec-WebSocket-Accept a server must answer with.
std::string WebSocketAcceptFor(std::string_view key);

// The GET upgrade request head. kUsage when a header name/value would break the head (CR, LF,
// NUL, or a name with separators), no protocol is offered, or the user agent lacks
// "kubernetes/".
Result<std::string> BuildWebSocketUpgradeRequest(const UpgradeRequestParams& p,
                                                 std::string_view websocket_key);
// The POST SPDY/3.1 upgrade request head (Content-Length: 0). Errors as above.
Result<std::string> BuildSpdyUpgradeRequest(const UpgradeRequestParams& p);

// Checks a 101 for WebSocket and returns the chosen subprotocol. kUpgradeRejected when the
// status is not 101, Upgrade/Connection are wrong, the accept key does not match `key`, or the
// subprotocol is empty or not one of `offered`.
Result<std::string> ValidateWebSocketUpgrade(const HttpResponse& r, std::string_view key,
                                             const std::vector<std::string>& offered);
// Checks a 101 for SPDY/3.1 and returns the chosen X-Stream-Protocol-Version ("channel.k8s.io"
// when absent, as client-go does). kUpgradeRejected when not among `offered`.
Result<std::string> ValidateSpdyUpgrade(const HttpResponse& r,
                                        const std::vector<std::string>& offered);

}  // namespace kproxy::http
