#include <doctest/doctest.h>

#include "auth/jwt_claims.h"
#include "tests/support/fake_browser.h"

namespace kproxy::auth {
namespace {

TEST_CASE("jwt: decodes the jwt.io example (independent vector)") {
  // RFC 7519-style example from jwt.io, not produced by any kproxy code.
  auto c = DecodeJwtClaims(
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwi"
      "aWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
  REQUIRE(c.ok());
  CHECK(c->sub == "1234567890");
  CHECK(c->name == "John Doe");
  REQUIRE(c->iat.has_value());
  CHECK(*c->iat == 1516239022);
  CHECK_FALSE(c->exp.has_value());
}

TEST_CASE("jwt: Pomerium-style claims, aud as string or array, groups") {
  auto jwt = test::MakeTestJwt(
      R"({"iss":"authenticate.corp","sub":"u1","aud":["a","b"],"iat":1700000000,"jti":"x",)"
      R"("exp":1700003600.5,"email":"alice@example.com","groups":["dev","ops"]})");
  auto c = DecodeJwtClaims(jwt);
  REQUIRE(c.ok());
  CHECK(c->iss == "authenticate.corp");
  CHECK(c->aud == std::vector<std::string>{"a", "b"});
  CHECK(c->jti == "x");
  CHECK(*c->exp == 1700003600);
  CHECK(c->email == "alice@example.com");
  CHECK(c->groups == std::vector<std::string>{"dev", "ops"});
  auto single = DecodeJwtClaims(test::MakeTestJwt(R"({"aud":"k8s"})"));
  REQUIRE(single.ok());
  CHECK(single->aud == std::vector<std::string>{"k8s"});
}

TEST_CASE("jwt: identity of an Authorization value: email, else name, else sub; opaque → empty") {
  auto with_email = test::MakeTestJwt(R"({"sub":"u1","name":"Alice","email":"alice@example.com"})");
  CHECK(IdentityFromAuthorization("Bearer Pomerium-" + with_email) == "alice@example.com");
  CHECK(IdentityFromAuthorization("Bearer " + with_email) == "alice@example.com");
  CHECK(IdentityFromAuthorization("Bearer " +
                                  test::MakeTestJwt(R"({"sub":"u1","name":"Alice"})")) == "Alice");
  CHECK(IdentityFromAuthorization("Bearer " +
                                  test::MakeTestJwt(R"({"sub":"system:serviceaccount:a:b"})")) ==
        "system:serviceaccount:a:b");
  CHECK(IdentityFromAuthorization("Bearer alice-token").empty());
  CHECK(IdentityFromAuthorization("Basic YWxpY2U6cHc=").empty());
  CHECK(IdentityFromAuthorization("Pomerium-" + with_email).empty());  // not a Bearer value
  CHECK(IdentityFromAuthorization("").empty());
}

TEST_CASE("jwt: payload lengths 0..3 mod 4 decode (padding optional)") {
  for (std::string payload :
       {R"({"sub":"a"})", R"({"sub":"ab"})", R"({"sub":"abc"})", R"({"sub":"abcd"})"}) {
    auto c = DecodeJwtClaims(test::MakeTestJwt(payload));
    REQUIRE(c.ok());
    CHECK(c->sub.size() == payload.size() - 10);
  }
  // Padded base64url is tolerated too.
  CHECK(Base64UrlDecode("YQ==").ok());
  CHECK(*Base64UrlDecode("YQ") == "a");
  CHECK(*Base64UrlDecode("-_8") == std::string("\xfb\xff", 2));
}

TEST_CASE("jwt: malformed tokens are errors, never crashes") {
  const char* bad[] = {"",
                       "abc",
                       "a.b",
                       "a.b.c.d",
                       ".eyJ9.sig",
                       "eyJ9..sig",
                       "e30.e30!.sig",
                       "e30.A.sig",             // length 1 mod 4
                       "e30.WzFd.sig",          // payload is an array, not an object
                       "e30.bm90IGpzb24.sig"};  // "not json"
  for (const char* t : bad) {
    auto c = DecodeJwtClaims(t);
    CHECK_FALSE(c.ok());
    if (!c.ok()) CHECK(c.error().code == ErrorCode::kProtocol);
  }
  CHECK_FALSE(DecodeJwtClaims(test::MakeTestJwt(R"({"sub":5})")).ok());
  CHECK_FALSE(DecodeJwtClaims(test::MakeTestJwt(R"({"exp":"soon"})")).ok());
  CHECK_FALSE(DecodeJwtClaims(test::MakeTestJwt(R"({"groups":[1]})")).ok());
  CHECK_FALSE(DecodeJwtClaims(test::MakeTestJwt(R"({"exp":1e300})")).ok());
  CHECK_FALSE(DecodeJwtClaims(std::string(70000, 'a') + ".e30.x").ok());
}

}  // namespace
}  // namespace kproxy::auth
