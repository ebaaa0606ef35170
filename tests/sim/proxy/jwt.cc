#include "tests/sim/proxy/jwt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace kproxy::sim {

namespace {

std::string Hs256(std::string_view data, std::string_view secret) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

Error Bad(const std::string& why) {
  return MakeError(ErrorCode::kUnauthenticated, "invalid session: " + why);
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(n);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

bool Base64UrlDecode(std::string_view text, std::string* out) {
  if (text.size() % 4 == 1) return false;
  std::string std_b64;
  std_b64.reserve(text.size() + 3);
  for (char c : text) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
      return false;
    std_b64.push_back(c);
  }
  size_t pad = (4 - std_b64.size() % 4) % 4;
  std_b64.append(pad, '=');
  out->assign(std_b64.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out->data()),
                          reinterpret_cast<const unsigned char*>(std_b64.data()),
                          static_cast<int>(std_b64.size()));
  if (n < 0) return false;
  out->resize(n - pad);  // EVP_DecodeBlock counts the padding as zero bytes
  return true;
}

std::string SignJwt(const nlohmann::json& claims, std::string_view secret) {
  std::string signing_input =
      Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." + Base64UrlEncode(claims.dump());
  return signing_input + "." + Base64UrlEncode(Hs256(signing_input, secret));
}

Result<nlohmann::json> VerifyJwt(std::string_view token, std::string_view secret) {
  if (token.size() > 8192) return Bad("token too long");
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Bad("not a JWT");
  }
  std::string header, payload, sig;
  if (!Base64UrlDecode(token.substr(0, dot1), &header) ||
      !Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1), &payload) ||
      !Base64UrlDecode(token.substr(dot2 + 1), &sig)) {
    return Bad("bad base64url");
  }
  nlohmann::json h = nlohmann::json::parse(header, nullptr, false);
  if (!h.is_object() || h.value("alg", "") != "HS256") return Bad("unexpected algorithm");
  std::string expected = Hs256(token.substr(0, dot2), secret);
  if (sig.size() != expected.size() ||
      CRYPTO_memcmp(sig.data(), expected.data(), sig.size()) != 0) {
    return Bad("bad signature");
  }
  nlohmann::json claims = nlohmann::json::parse(payload, nullptr, false);
  if (!claims.is_object()) return Bad("claims are not an object");
  return claims;
}

}  // namespace kproxy::sim
