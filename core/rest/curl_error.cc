#include "core/rest/curl_error.h"

#include "core/rest/curl_library.h"

namespace kproxy {

Error CurlTransferError(int curl_code, const std::string& detail, const std::string& server) {
  auto code = static_cast<CURLcode>(curl_code);
  std::string why = detail;
  if (why.empty()) {
    auto api = Curl();
    why = api.ok() ? (*api)->easy_strerror(code) : "curl error " + std::to_string(curl_code);
  }
  std::string prefix = "Unable to connect to the server " + server + ": ";
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
      return MakeError(ErrorCode::kUnavailable, prefix + "DNS lookup failed (" + why + ")");
    case CURLE_COULDNT_RESOLVE_PROXY:
      return MakeError(ErrorCode::kUnavailable, prefix + "proxy DNS lookup failed (" + why + ")");
    case CURLE_COULDNT_CONNECT:
      return MakeError(ErrorCode::kUnavailable, prefix + "TCP connection failed (" + why + ")");
    case CURLE_OPERATION_TIMEDOUT:
      return MakeError(ErrorCode::kTimeout, prefix + "the request timed out (" + why + ")");
    case CURLE_PEER_FAILED_VERIFICATION:
      // Unknown CA and host-name mismatch both land here; curl's text says which.
      return MakeError(
          ErrorCode::kUnavailable,
          prefix + "TLS: the server's certificate could not be verified (" + why + ")");
    case CURLE_SSL_CONNECT_ERROR:
      return MakeError(ErrorCode::kUnavailable, prefix + "TLS handshake failed (" + why + ")");
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
      return MakeError(ErrorCode::kConfig,
                       prefix + "TLS settings rejected (client certificate or CA data): " + why);
    case CURLE_PROXY:
      return MakeError(ErrorCode::kUnavailable, prefix + "the proxy refused (" + why + ")");
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return MakeError(ErrorCode::kConfig, "invalid server URL " + server + ": " + why);
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
      return MakeError(ErrorCode::kUnavailable, prefix + "connection lost (" + why + ")");
    default:
      return MakeError(ErrorCode::kUnavailable, prefix + why);
  }
}

}  // namespace kproxy
