#include <doctest/doctest.h>

#include "auth/exec_credential.h"

namespace kproxy::auth {
namespace {

SystemTime At(std::time_t t) { return std::chrono::system_clock::from_time_t(t); }

TEST_CASE("exec credential: exact v1 and v1beta1 output; expiry omitted when unknown") {
  ExecCredentialStatus s;
  s.token = "Pomerium-abc.def.ghi";
  CHECK(EncodeExecCredential(kExecApiV1, s) ==
        R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)"
        R"("spec":{},"status":{"token":"Pomerium-abc.def.ghi"}})");
  s.expiration = At(1767225600);  // 2026-01-01T00:00:00Z
  CHECK(EncodeExecCredential(kExecApiV1beta1, s) ==
        R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential",)"
        R"("spec":{},"status":{"expirationTimestamp":"2026-01-01T00:00:00Z",)"
        R"("token":"Pomerium-abc.def.ghi"}})");
  ExecCredentialStatus none;
  none.token = "t";
  CHECK(EncodeExecCredential(kExecApiV1, none).find("0001-01-01") == std::string::npos);
  CHECK(EncodeExecCredential(kExecApiV1, none).find("expirationTimestamp") == std::string::npos);
}

TEST_CASE("exec credential: decoding what real plugins print") {
  // gke-gcloud-auth-plugin style (v1beta1, fractional-free RFC 3339 with Z).
  auto gke = DecodeExecCredential(
      R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1",)"
      R"("spec":{"interactive":false},"status":{"expirationTimestamp":"2026-11-29T07:00:00Z",)"
      R"("token":"ya29.xyz"}})",
      kExecApiV1beta1);
  REQUIRE(gke.ok());
  CHECK(gke->token == "ya29.xyz");
  CHECK(FormatRfc3339(*gke->expiration) == "2026-11-29T07:00:00Z");
  // aws eks get-token style: offset time with fractional seconds.
  auto aws = DecodeExecCredential(
      R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1",)"
      R"("spec":{},"status":{"expirationTimestamp":"2026-11-29T08:14:00.123+01:00",)"
      R"("token":"k8s-aws-v1.abc"}})",
      kExecApiV1beta1);
  REQUIRE(aws.ok());
  CHECK(FormatRfc3339(*aws->expiration) == "2026-11-29T07:14:00Z");
  auto cert = DecodeExecCredential(
      R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",)"
      R"("status":{"clientCertificateData":"CERT","clientKeyData":"KEY"}})",
      kExecApiV1);
  REQUIRE(cert.ok());
  CHECK(cert->client_key_data == "KEY");
}

TEST_CASE("exec credential: client-go's validation errors") {
  auto msg = [](std::string_view json, std::string_view api = kExecApiV1) {
    auto r = DecodeExecCredential(json, api);
    REQUIRE_FALSE(r.ok());
    return r.error().message;
  };
  CHECK(msg(R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1",)"
            R"("status":{"token":"t"}})") ==
        "exec plugin is configured to use API version client.authentication.k8s.io/v1, plugin "
        "returned version client.authentication.k8s.io/v1beta1");
  CHECK(msg(R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1"})") ==
        "exec plugin didn't return a status field");
  CHECK(msg(R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",)"
            R"("status":{}})") == "exec plugin didn't return a token or cert/key pair");
  CHECK(msg(R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",)"
            R"("status":{"clientCertificateData":"C"}})") ==
        "exec plugin returned only certificate or key, not both");
  CHECK(msg("not json").find("decoding stdout") != std::string::npos);
  CHECK(msg(R"({"kind":"Other","apiVersion":"client.authentication.k8s.io/v1"})")
            .find("ExecCredential") != std::string::npos);
  CHECK(msg(R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",)"
            R"("status":{"token":"t","expirationTimestamp":"tomorrow"}})")
            .find("RFC 3339") != std::string::npos);
  CHECK(msg(R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",)"
            R"("status":{"token":5}})")
            .find("token") != std::string::npos);
}

TEST_CASE("exec credential: RFC 3339 parsing edge cases") {
  CHECK(ParseRfc3339("2026-11-29T07:00:00z").ok());
  CHECK(*ParseRfc3339("1970-01-01T00:00:00Z") == At(0));
  CHECK(*ParseRfc3339("1970-01-01T01:00:00+01:00") == At(0));
  CHECK(*ParseRfc3339("1969-12-31T23:30:00-00:30") == At(0));
  for (const char* bad :
       {"", "2026-11-29", "2026-11-29T07:00:00", "2026-13-01T00:00:00Z", "2026-11-29T07:00:00.Z",
        "2026-11-29T07:00:00+1:00", "2026-11-29T07:00:00Zjunk", "2026-11-29 07:00:00Z"}) {
    CHECK_FALSE(ParseRfc3339(bad).ok());
  }
}

TEST_CASE("exec info: KUBERNETES_EXEC_INFO as kubectl sends it") {
  // kubectl 1.28+ with provideClusterInfo (shape from client-go's exec.go), written by hand.
  auto info = ParseExecInfo(
      R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1",)"
      R"("spec":{"cluster":{"server":"https://127.0.0.1:6443",)"
      R"("certificate-authority-data":"UEVN","config":{"audience":"x"}},"interactive":true}})");
  REQUIRE(info.ok());
  CHECK(info->api_version == kExecApiV1beta1);
  CHECK(info->interactive);
  REQUIRE(info->cluster.has_value());
  CHECK(info->cluster->server == "https://127.0.0.1:6443");
  CHECK(info->cluster->certificate_authority_data == "PEM");
  CHECK(info->cluster->config_json == R"({"audience":"x"})");

  auto dflt = ParseExecInfo("");
  REQUIRE(dflt.ok());
  CHECK(dflt->api_version == kExecApiV1);
  CHECK_FALSE(dflt->interactive);
  for (const char* bad : {"[]", "{", R"({"apiVersion":"client.authentication.k8s.io/v2"})",
                          R"({"spec":{"interactive":"yes"}})", R"({"spec":[]})",
                          R"({"spec":{"cluster":{"server":1}}})",
                          R"({"spec":{"cluster":{"certificate-authority-data":"!!"}}})"}) {
    auto r = ParseExecInfo(bad);
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK(r.error().code == ErrorCode::kUsage);
  }
}

TEST_CASE("exec info: encoding carries spec.cluster only when given") {
  ExecInfo info;
  info.interactive = false;
  CHECK(EncodeExecInfo(info) ==
        R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)"
        R"("spec":{"interactive":false}})");
  ExecClusterInfo c;
  c.server = "https://s";
  c.certificate_authority_data = "PEM";
  c.config_json = R"({"k":1})";
  info.cluster = c;
  info.interactive = true;
  CHECK(EncodeExecInfo(info) ==
        R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)"
        R"("spec":{"cluster":{"certificate-authority-data":"UEVN","config":{"k":1},)"
        R"("server":"https://s"},"interactive":true}})");
}

}  // namespace
}  // namespace kproxy::auth
