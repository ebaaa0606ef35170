// Maps a failed libcurl transfer to one clear line and an ErrorCode (DNS, TCP, TLS, proxy,
// timeout), the way a user reads kubectl's "Unable to connect to the server: ...".
#pragma once

#include <string>

#include "core/base/result.h"

namespace kproxy {

// Consumes curl's result code (an int: CURLcode, kept out of this header), curl's error buffer
// text, and the server as the user configured it ("https://10.0.0.1:6443"). Returns an Error
// whose message names the server; the caller redacts it.
Error CurlTransferError(int curl_code, const std::string& detail, const std::string& server);

}  // namespace kproxy
