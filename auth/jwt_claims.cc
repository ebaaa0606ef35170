#include "auth/jwt_claims.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

namespace kproxy::auth {
namespace {

// A session JWT is a few KB; refuse anything absurd before allocating for it.
constexpr size_t kMaxJwtBytes = 64 * 1024;

Error Malformed(std::string_view why) {
  return MakeError(ErrorCode::kProtocol, "malformed JWT: " + std::string(why));
}

Result<std::string> StringClaim(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Malformed(std::string(name) + " is not a string");
  return it->get<std::string>();
}

Result<std::vector<std::string>> StringListClaim(const nlohmann::json& j, const char* name) {
  std::vector<std::string> out;
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return out;
  if (it->is_string()) return std::vector<std::string>{it->get<std::string>()};
  if (!it->is_array()) return Malformed(std::string(name) + " is not a string or array");
  for (const auto& v : *it) {
    if (!v.is_string()) return Malformed(std::string(name) + " holds a non-string");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<std::optional<int64_t>> TimeClaim(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::optional<int64_t>();
  // NumericDate may be fractional (RFC 7519 §2); whole seconds are enough here.
  if (it->is_number_integer()) return std::optional<int64_t>(it->get<int64_t>());
  if (it->is_number_float()) {
    double d = it->get<double>();
    if (d < -1e15 || d > 1e15) return Malformed(std::string(name) + " out of range");
    return std::optional<int64_t>(static_cast<int64_t>(d));
  }
  return Malformed(std::string(name) + " is not a number");
}

}  // namespace

Result<std::string> Base64UrlDecode(std::string_view text) {
  std::string b64;
  b64.reserve(text.size() + 3);
  for (char c : text) {
    if (c == '-') {
      b64.push_back('+');
    } else if (c == '_') {
      b64.push_back('/');
    } else if (c == '=') {
      break;  // padding is optional in JWTs; trailing '=' tolerated
    } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      b64.push_back(c);
    } else {
      return Malformed("invalid base64url character");
    }
  }
  if (b64.size() % 4 == 1) return Malformed("invalid base64url length");
  size_t pad = (4 - b64.size() % 4) % 4;
  b64.append(pad, '=');
  std::string out(b64.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  if (n < 0) return Malformed("invalid base64url");
  // EVP_DecodeBlock counts padding bytes as zeros; trim them.
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

Result<JwtClaims> DecodeJwtClaims(std::string_view jwt) {
  if (jwt.size() > kMaxJwtBytes) return Malformed("too long");
  size_t d1 = jwt.find('.');
  if (d1 == std::string_view::npos) return Malformed("expected three dot-separated parts");
  size_t d2 = jwt.find('.', d1 + 1);
  if (d2 == std::string_view::npos || jwt.find('.', d2 + 1) != std::string_view::npos) {
    return Malformed("expected three dot-separated parts");
  }
  if (d1 == 0 || d2 == d1 + 1) return Malformed("empty header or payload");
  auto payload = Base64UrlDecode(jwt.substr(d1 + 1, d2 - d1 - 1));
  if (!payload) return payload.error();
  nlohmann::json j = nlohmann::json::parse(*payload, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Malformed("payload is not a JSON object");

  JwtClaims c;
  for (auto [field, name] :
       {std::pair{&c.iss, "iss"}, std::pair{&c.sub, "sub"}, std::pair{&c.jti, "jti"},
        std::pair{&c.email, "email"}, std::pair{&c.name, "name"}}) {
    auto v = StringClaim(j, name);
    if (!v) return v.error();
    *field = std::move(*v);
  }
  auto aud = StringListClaim(j, "aud");
  if (!aud) return aud.error();
  c.aud = std::move(*aud);
  auto groups = StringListClaim(j, "groups");
  if (!groups) return groups.error();
  c.groups = std::move(*groups);
  auto iat = TimeClaim(j, "iat");
  if (!iat) return iat.error();
  c.iat = *iat;
  auto exp = TimeClaim(j, "exp");
  if (!exp) return exp.error();
  c.exp = *exp;
  return c;
}

std::string IdentityFromAuthorization(std::string_view authorization) {
  constexpr std::string_view kBearer = "Bearer ";
  constexpr std::string_view kPomerium = "Pomerium-";
  if (authorization.substr(0, kBearer.size()) != kBearer) return "";
  std::string_view token = authorization.substr(kBearer.size());
  if (token.substr(0, kPomerium.size()) == kPomerium) token.remove_prefix(kPomerium.size());
  auto claims = DecodeJwtClaims(token);
  if (!claims) return "";
  if (!claims->email.empty()) return claims->email;
  if (!claims->name.empty()) return claims->name;
  return claims->sub;
}

}  // namespace kproxy::auth
