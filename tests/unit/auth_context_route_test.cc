#include <doctest/doctest.h>

#include <fstream>

#include "auth/context_route.h"
#include "tests/support/test_env.h"

namespace kproxy::auth {
namespace {

TEST_CASE("context route: file selection like client-go") {
  CHECK(KubeconfigFiles(std::string("/x"), std::string("/a:/b"), "/h") ==
        std::vector<std::string>{"/x"});
  CHECK(KubeconfigFiles(std::nullopt, std::string("/a::/b:/a"), "/h") ==
        std::vector<std::string>{"/a", "/b"});
  CHECK(KubeconfigFiles(std::nullopt, std::nullopt, "/h") ==
        std::vector<std::string>{"/h/.kube/config"});
}

TEST_CASE("context route: kproxy credential --server wins; else the cluster server; CA too") {
  test::TempDir tmp;
  auto a = tmp.path() / "a.yaml";
  auto b = tmp.path() / "sub" / "b.yaml";
  std::filesystem::create_directories(b.parent_path());
  std::ofstream(b.parent_path() / "ca.pem") << "PEM-FROM-FILE";
  std::ofstream(a) << R"(apiVersion: v1
kind: Config
current-context: corp
clusters:
- name: corp
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: UEVNLURBVEE=
contexts:
- name: corp
  context: {cluster: corp, user: corp}
- name: plain
  context: {cluster: other, user: tokenuser}
users:
- name: corp
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: kproxy
      args: [credential, --server, "https://k8s.corp.example"]
      interactiveMode: IfAvailable
- name: tokenuser
  user: {token: abc}
)";
  std::ofstream(b) << R"(clusters:
- name: other
  cluster:
    server: https://other.example
    certificate-authority: ca.pem
- name: corp
  cluster: {server: https://shadowed.example}
contexts:
- name: corp
  context: {cluster: nope, user: nope}
)";
  std::vector<std::string> files = {a.string(), b.string()};
  auto corp = RouteForContext("", files);  // current-context
  REQUIRE(corp.ok());
  CHECK(corp->route == "https://k8s.corp.example");
  CHECK(corp->ca_pem == "PEM-DATA");  // first file's cluster wins
  auto plain = RouteForContext("plain", files);
  REQUIRE(plain.ok());
  CHECK(plain->route == "https://other.example");
  CHECK(plain->ca_pem == "PEM-FROM-FILE");  // relative to b.yaml's directory
  auto missing = RouteForContext("nope", files);
  REQUIRE_FALSE(missing.ok());
  CHECK_MESSAGE(missing.error().code == ErrorCode::kNotFound, missing.error().message);
  // Missing files are skipped; malformed ones are config errors.
  CHECK(RouteForContext("corp", {(tmp.path() / "absent").string(), a.string()}).ok());
  std::ofstream(tmp.path() / "bad.yaml") << "contexts: [ {";
  CHECK(RouteForContext("corp", {(tmp.path() / "bad.yaml").string()}).error().code ==
        ErrorCode::kConfig);
  std::ofstream(tmp.path() / "odd.yaml") << "contexts: [ {name: x, context: 5} ]\n";
  CHECK_FALSE(RouteForContext("x", {(tmp.path() / "odd.yaml").string()}).ok());
}

TEST_CASE("context route: --server flag wins over the kubeconfig") {
  ConfigOverrides o;
  o.server = "https://flag.example";
  o.insecure_skip_tls_verify = true;
  auto r = RouteFromFlags(o, [](const std::string&) { return std::optional<std::string>(); });
  REQUIRE(r.ok());
  CHECK(r->route == "https://flag.example");
  CHECK(r->insecure_skip_tls_verify);
  o.certificate_authority = "/nonexistent/ca.pem";
  CHECK(RouteFromFlags(o, [](const std::string&) { return std::optional<std::string>(); })
            .error()
            .code == ErrorCode::kConfig);
}

}  // namespace
}  // namespace kproxy::auth
