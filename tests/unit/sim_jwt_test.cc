// Session JWTs: base64url against RFC 4648 vectors, HS256 against RFC 7515 Appendix A.1.
#include <doctest/doctest.h>

#include "tests/sim/proxy/jwt.h"

namespace kproxy::sim {

TEST_CASE("base64url: RFC 4648 section 10 vectors, unpadded") {
  const std::pair<const char*, const char*> v[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (auto [plain, enc] : v) {
    CHECK(Base64UrlEncode(plain) == enc);
    std::string out;
    CHECK(Base64UrlDecode(enc, &out));
    CHECK(out == plain);
  }
  std::string out;
  CHECK(Base64UrlEncode("\xfb\xff") == "-_8");
  CHECK(Base64UrlDecode("-_8", &out));
  CHECK(out == "\xfb\xff");
  CHECK_FALSE(Base64UrlDecode("Zm9v=", &out));
  CHECK_FALSE(Base64UrlDecode("Z", &out));
  CHECK_FALSE(Base64UrlDecode("Zm+v", &out));
}

TEST_CASE("HS256 verification accepts the RFC 7515 A.1 example") {
  std::string key;
  REQUIRE(Base64UrlDecode(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
      &key));
  const std::string token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl"
      "fQ."
      "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  auto claims = VerifyJwt(token, key);
  REQUIRE(claims.ok());
  CHECK((*claims)["iss"] == "joe");
  CHECK((*claims)["http://example.com/is_root"] == true);
  // One flipped signature character, or another key, is refused.
  std::string tampered = token;
  tampered.back() = tampered.back() == 'k' ? 'j' : 'k';
  CHECK_FALSE(VerifyJwt(tampered, key).ok());
  CHECK_FALSE(VerifyJwt(token, "other key").ok());
}

TEST_CASE("minted tokens verify; malformed tokens do not") {
  nlohmann::json claims = {{"sub", "alice"}, {"jti", "1"}};
  std::string t = SignJwt(claims, "secret");
  auto back = VerifyJwt(t, "secret");
  REQUIRE(back.ok());
  CHECK(*back == claims);
  for (const char* bad : {"", ".", "..", "a.b", "a.b.c.d", "!!.!!.!!", "eyJhbGciOiJub25lIn0.e30.",
                          "eyJhbGciOiJub25lIn0.e30.AAAA"}) {
    CAPTURE(bad);
    CHECK_FALSE(VerifyJwt(bad, "secret").ok());
  }
  CHECK_FALSE(VerifyJwt(std::string(10000, 'a'), "secret").ok());
}

}  // namespace kproxy::sim
