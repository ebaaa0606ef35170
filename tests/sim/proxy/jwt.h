// Session JWTs as the access-proxy emulator issues them: HS256 (HMAC-SHA256 via OpenSSL),
// claims iss/sub/aud/iat/jti/email and, like Pomerium's, no exp. Verification is strict:
// three base64url parts, header alg HS256, a matching signature, a JSON object payload.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/base/result.h"

namespace kproxy::sim {

std::string Base64UrlEncode(std::string_view bytes);
// False on characters outside the base64url alphabet or an impossible length.
bool Base64UrlDecode(std::string_view text, std::string* out);

// Signs `claims` with `secret`: header.payload.signature.
std::string SignJwt(const nlohmann::json& claims, std::string_view secret);
// Checks the signature and returns the claims; kUnauthenticated on any defect.
Result<nlohmann::json> VerifyJwt(std::string_view token, std::string_view secret);

}  // namespace kproxy::sim
