// Reads a JWT's payload claims WITHOUT verifying the signature (auth.md §4.5): only to show
// who is logged in and to learn an expiry when the token carries one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"

namespace kproxy::auth {

struct JwtClaims {
  std::string iss;
  std::string sub;
  std::vector<std::string> aud;  // "aud" may be a string or an array
  std::optional<int64_t> iat;    // seconds since the epoch
  std::optional<int64_t> exp;    // absent in Pomerium session JWTs
  std::string jti;
  std::string email;
  std::string name;
  std::vector<std::string> groups;
};

// Consumes a compact JWT ("h.p.s", an optional "Pomerium-" prefix is not accepted here);
// returns the payload claims. kProtocol when it is not three base64url parts or the payload
// is not a JSON object with correctly typed claims.
Result<JwtClaims> DecodeJwtClaims(std::string_view jwt);

// Who an Authorization header value says the caller is, for messages: "Bearer <jwt>" or
// "Bearer Pomerium-<jwt>" → the JWT's email, else name, else sub; "" for anything else (opaque
// tokens, basic auth, no credential). The signature is not checked: display only.
std::string IdentityFromAuthorization(std::string_view authorization);

// base64url (RFC 4648 §5, padding optional) → bytes; error on any other character.
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace kproxy::auth
