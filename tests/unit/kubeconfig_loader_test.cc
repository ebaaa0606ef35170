// LoadRestConfig: file list, merge, selection, overrides, validation, secrets, in-cluster.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/base/log.h"
#include "core/kubeconfig/loader.h"
#include "tests/unit/kubeconfig_test_util.h"

namespace kproxy {
namespace {

namespace fs = std::filesystem;
using test::FakeKubeEnv;
using test::TempDir;
using test::WriteFile;

// A file with two clusters/users/contexts; `tag` makes values distinguishable per file.
std::string TwoContexts(const std::string& tag, const std::string& current) {
  return "apiVersion: v1\nkind: Config\n" +
         (current.empty() ? std::string() : "current-context: " + current + "\n") +
         "clusters:\n"
         "- name: shared\n  cluster: {server: https://" +
         tag +
         ".shared:6443}\n"
         "- name: only-" +
         tag + "\n  cluster: {server: https://" + tag +
         ".only}\n"
         "users:\n"
         "- name: shared\n  user: {token: tok-" +
         tag +
         "-shared}\n"
         "- name: only-" +
         tag + "\n  user: {token: tok-" + tag +
         "-only}\n"
         "contexts:\n"
         "- name: shared\n  context: {cluster: shared, user: shared, namespace: ns-" +
         tag +
         "}\n"
         "- name: only-" +
         tag + "\n  context: {cluster: only-" + tag + ", user: only-" + tag + "}\n";
}

Result<RestConfig> Load(FakeKubeEnv& fake, ConfigOverrides o = {}) {
  return LoadRestConfig(o, fake.env);
}

TEST_CASE("file list: --kubeconfig alone, else $KUBECONFIG, else ~/.kube/config") {
  TempDir dir;
  FakeKubeEnv fake(dir.path());
  WriteFile(fs::path(fake.env.home_dir) / ".kube/config", TwoContexts("home", "shared"));
  auto a = WriteFile(dir.path() / "a.yaml", TwoContexts("a", "shared"));
  auto b = WriteFile(dir.path() / "b.yaml", TwoContexts("b", "only-b"));

  SUBCASE("home config when nothing else is set") {
    auto rc = Load(fake);
    REQUIRE(rc.ok());
    CHECK(rc->server == "https://home.shared:6443");
  }
  SUBCASE("$KUBECONFIG replaces the home file") {
    fake.vars["KUBECONFIG"] = b;
    auto rc = Load(fake);
    REQUIRE(rc.ok());
    CHECK(rc->server == "https://b.only");
  }
  SUBCASE("--kubeconfig wins over $KUBECONFIG and is not merged") {
    fake.vars["KUBECONFIG"] = b;
    ConfigOverrides o;
    o.kubeconfig = a;
    o.context = "only-b";
    auto rc = Load(fake, o);
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().code == ErrorCode::kNotFound);
    CHECK(rc.error().message == "context was not found for specified context: only-b");
  }
  SUBCASE("--kubeconfig must exist") {
    ConfigOverrides o;
    o.kubeconfig = "missing.yaml";
    auto rc = Load(fake, o);
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().code == ErrorCode::kNotFound);
    CHECK(rc.error().message == "stat missing.yaml: no such file or directory");
  }
  SUBCASE("an existing but unreadable $KUBECONFIG entry is an error naming it") {
    fs::create_directories(dir.path() / "adir");
    fake.vars["KUBECONFIG"] = a + ":" + (dir.path() / "adir").string();
    auto rc = Load(fake);
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().code == ErrorCode::kConfig);
    CHECK(rc.error().message == "error loading config file \"" + (dir.path() / "adir").string() +
                                    "\": read " + (dir.path() / "adir").string() +
                                    ": is a directory");
  }
  SUBCASE("--kubeconfig relative to the working directory") {
    WriteFile(fs::path(fake.env.cwd) / "rel.yaml", TwoContexts("rel", "shared"));
    ConfigOverrides o;
    o.kubeconfig = "rel.yaml";
    auto rc = Load(fake, o);
    REQUIRE(rc.ok());
    CHECK(rc->server == "https://rel.shared:6443");
  }
}

TEST_CASE("merge: first file defining a name wins whole; first current-context wins") {
  TempDir dir;
  FakeKubeEnv fake(dir.path());
  auto a = WriteFile(dir.path() / "a.yaml", TwoContexts("a", ""));
  auto b = WriteFile(dir.path() / "b.yaml", TwoContexts("b", "only-b"));
  auto c = WriteFile(dir.path() / "c.yaml", TwoContexts("c", "only-c"));
  struct Case {
    std::string kubeconfig;
    std::optional<std::string> context;
    std::string want_server, want_token, want_ns;
  };
  const std::string missing = (dir.path() / "missing.yaml").string();
  const Case cases[] = {
      // a has no current-context: b's is used; the shared context comes from a, whole.
      {a + ":" + b + ":" + c, std::nullopt, "https://b.only", "tok-b-only", "default"},
      {a + ":" + b + ":" + c, "shared", "https://a.shared:6443", "tok-a-shared", "ns-a"},
      {c + ":" + b, "shared", "https://c.shared:6443", "tok-c-shared", "ns-c"},
      {c + ":" + b, std::nullopt, "https://c.only", "tok-c-only", "default"},
      // empty entries, duplicates and missing files are ignored.
      {"::" + missing + ":" + b + ":" + b + ":" + a + ":", "shared", "https://b.shared:6443",
       "tok-b-shared", "ns-b"},
      {missing + ":" + a, "only-a", "https://a.only", "tok-a-only", "default"},
  };
  for (const auto& tc : cases) {
    CAPTURE(tc.kubeconfig);
    fake.vars["KUBECONFIG"] = tc.kubeconfig;
    ConfigOverrides o;
    o.context = tc.context;
    auto rc = Load(fake, o);
    REQUIRE(rc.ok());
    CHECK(rc->server == tc.want_server);
    CHECK(rc->bearer_token == tc.want_token);
    CHECK(rc->namespace_ == tc.want_ns);
  }
}

TEST_CASE("merge: an entry from a later file is not mixed into an earlier one") {
  TempDir dir;
  FakeKubeEnv fake(dir.path());
  auto a = WriteFile(dir.path() / "a.yaml",
                     "current-context: x\nclusters:\n- name: c\n  cluster: {server: https://a}\n"
                     "contexts:\n- name: x\n  context: {cluster: c}\n");
  auto b = WriteFile(dir.path() / "b.yaml",
                     "clusters:\n- name: c\n  cluster: {server: https://b, "
                     "tls-server-name: from-b, proxy-url: 'http://proxy:3128'}\n");
  fake.vars["KUBECONFIG"] = a + ":" + b;
  auto rc = Load(fake);
  REQUIRE(rc.ok());
  CHECK(rc->server == "https://a");
  CHECK(rc->tls_server_name.empty());
  CHECK(rc->proxy_url.empty());
}

TEST_CASE("selection and overrides") {
  TempDir dir;
  FakeKubeEnv fake(dir.path());
  auto a = WriteFile(dir.path() / "a.yaml", TwoContexts("a", "shared"));
  fake.vars["KUBECONFIG"] = a;
  ConfigOverrides o;
  SUBCASE("--cluster and --user override the context's") {
    o.cluster = "only-a";
    o.user = "only-a";
    auto rc = Load(fake, o);
    REQUIRE(rc.ok());
    CHECK(rc->server == "https://a.only");
    CHECK(rc->bearer_token == "tok-a-only");
    CHECK(rc->context_name == "shared");
    CHECK(rc->cluster_name == "only-a");
    CHECK(rc->user_name == "only-a");
    CHECK(rc->namespace_ == "ns-a");
  }
  SUBCASE("-n beats the context namespace") {
    o.namespace_ = "flag-ns";
    auto rc = Load(fake, o);
    REQUIRE(rc.ok());
    CHECK(rc->namespace_ == "flag-ns");
  }
  SUBCASE("--server, --tls-server-name, --token, impersonation") {
    o.server = "https://flag:1";
    o.token = "flag-token";
    o.as = "jane";
    o.as_groups = {"g1", "g2"};
    o.as_uid = "42";
    o.request_timeout = "1m";
    auto rc = Load(fake, o);
    REQUIRE(rc.ok());
    CHECK(rc->server == "https://flag:1");
    CHECK(rc->bearer_token == "flag-token");
    CHECK(rc->impersonate_user == "jane");
    CHECK(rc->impersonate_groups == std::vector<std::string>{"g1", "g2"});
    CHECK(rc->impersonate_uid == "42");
    CHECK(rc->timeout == std::chrono::minutes(1));
  }
  SUBCASE("--username/--password replace the file's token") {
    o.username = "admin";
    o.password = "hunter22";
    auto rc = Load(fake, o);
    REQUIRE(rc.ok());
    CHECK(rc->bearer_token.empty());
    CHECK(rc->username == "admin");
    CHECK(rc->password == "hunter22");
  }
  SUBCASE("unknown --cluster / --user / --context") {
    o.cluster = "nope";
    auto rc = Load(fake, o);
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().code == ErrorCode::kNotFound);
    CHECK(rc.error().message == "no server found for cluster \"nope\"");
    ConfigOverrides u;
    u.user = "nope";
    rc = Load(fake, u);
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().message == "auth info \"nope\" does not exist");
  }
  SUBCASE("--server alone works without any kubeconfig context") {
    fake.vars.erase("KUBECONFIG");
    o.server = "https://only-flag:6443";
    auto rc = Load(fake, o);
    REQUIRE(rc.ok());
    CHECK(rc->server == "https://only-flag:6443");
    CHECK(rc->namespace_ == "default");
  }
}

TEST_CASE("relative paths resolve against the defining file; flags against the cwd") {
  TempDir dir;
  FakeKubeEnv fake(dir.path());
  const fs::path conf = dir.path() / "conf";
  WriteFile(conf / "pki/ca.crt", "CA-FROM-FILE");
  WriteFile(conf / "pki/client.crt", "CERT-FROM-FILE");
  WriteFile(conf / "pki/client.key", "KEY-FROM-FILE");
  WriteFile(conf / "token.txt", "file-token-value\n");
  WriteFile(fs::path(fake.env.cwd) / "flag-ca.crt", "CA-FROM-CWD");
  auto cfg = WriteFile(
      conf / "config",
      "current-context: cert\n"
      "clusters:\n- name: c\n  cluster: {server: https://x, certificate-authority: pki/ca.crt}\n"
      "users:\n"
      "- name: cert\n  user: {client-certificate: pki/client.crt, client-key: pki/client.key}\n"
      "- name: tf\n  user: {tokenFile: token.txt}\n"
      "- name: ex\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
      "      command: ./bin/plugin\n"
      "- name: bare\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1beta1, "
      "command: kubelogin}\n"
      "contexts:\n- name: cert\n  context: {cluster: c, user: cert}\n"
      "- name: tf\n  context: {cluster: c, user: tf}\n"
      "- name: ex\n  context: {cluster: c, user: ex}\n"
      "- name: bare\n  context: {cluster: c, user: bare}\n");
  fake.vars["KUBECONFIG"] = cfg;
  ConfigOverrides o;
  auto rc = Load(fake, o);
  REQUIRE(rc.ok());
  CHECK(rc->ca_data == "CA-FROM-FILE");
  CHECK(rc->ca_file == (conf / "pki/ca.crt").string());
  CHECK(rc->client_cert_data == "CERT-FROM-FILE");
  CHECK(rc->client_key_data == "KEY-FROM-FILE");

  o.context = "tf";
  rc = Load(fake, o);
  REQUIRE(rc.ok());
  CHECK(rc->token_file == (conf / "token.txt").string());

  o.context = "ex";
  rc = Load(fake, o);
  REQUIRE(rc.ok());
  REQUIRE(rc->exec);
  CHECK(rc->exec->command == (conf / "bin/plugin").string());

  o.context = "bare";
  rc = Load(fake, o);
  REQUIRE(rc.ok());
  CHECK(rc->exec->command == "kubelogin");  // bare names are looked up on PATH later

  o.context = "cert";
  o.certificate_authority = "flag-ca.crt";
  rc = Load(fake, o);
  REQUIRE(rc.ok());
  CHECK(rc->ca_data == "CA-FROM-CWD");
}

TEST_CASE("*-data fields win over the file paths") {
  TempDir dir;
  FakeKubeEnv fake(dir.path());
  // The referenced files do not exist: with data present they must not even be read.
  auto cfg = WriteFile(dir.path() / "k.yaml",
                       "current-context: x\n"
                       "clusters:\n- name: c\n  cluster:\n    server: https://x\n"
                       "    certificate-authority: nope/ca.crt\n"
                       "    certificate-authority-data: Q0EtREFUQQ==\n"
                       "users:\n- name: u\n  user:\n    client-certificate: nope/c.crt\n"
                       "    client-certificate-data: Q0VSVC1EQVRB\n"
                       "    client-key: nope/c.key\n    client-key-data: S0VZLURBVEE=\n"
                       "contexts:\n- name: x\n  context: {cluster: c, user: u}\n");
  fake.vars["KUBECONFIG"] = cfg;
  auto rc = Load(fake);
  REQUIRE(rc.ok());
  CHECK(rc->ca_data == "CA-DATA");
  CHECK(rc->ca_file.empty());
  CHECK(rc->client_cert_data == "CERT-DATA");
  CHECK(rc->client_key_data == "KEY-DATA");
}

TEST_CASE("every cluster and user field reaches the RestConfig") {
  TempDir dir;
  FakeKubeEnv fake(dir.path());
  auto cfg = WriteFile(
      dir.path() / "k.yaml",
      "current-context: x\n"
      "clusters:\n- name: c\n  cluster:\n    server: https://x:6443/prefix\n"
      "    tls-server-name: api.internal\n    proxy-url: socks5://127.0.0.1:1080\n"
      "    disable-compression: true\n    extensions:\n"
      "    - name: client.authentication.k8s.io/exec\n      extension: {audience: kproxy, retries: "
      "3}\n"
      "users:\n- name: u\n  user:\n    as: jane\n    as-uid: '1000'\n    as-groups: [dev, ops]\n"
      "    as-user-extra: {scopes: [a, b]}\n"
      "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: kproxy\n"
      "      args: [credential, --server, 'https://route']\n"
      "      env:\n      - {name: MODE, value: ci}\n      - {name: API_TOKEN, value: "
      "env-secret-1}\n"
      "      installHint: install kproxy\n      provideClusterInfo: true\n"
      "      interactiveMode: IfAvailable\n"
      "contexts:\n- name: x\n  context: {cluster: c, user: u}\n");
  fake.vars["KUBECONFIG"] = cfg;
  auto rc = Load(fake);
  REQUIRE(rc.ok());
  CHECK(rc->server == "https://x:6443/prefix");
  CHECK(rc->tls_server_name == "api.internal");
  CHECK(rc->proxy_url == "socks5://127.0.0.1:1080");
  CHECK(rc->disable_compression);
  CHECK(nlohmann::json::parse(rc->cluster_exec_config_json) ==
        nlohmann::json{{"audience", "kproxy"}, {"retries", 3}});
  CHECK(rc->impersonate_user == "jane");
  CHECK(rc->impersonate_uid == "1000");
  CHECK(rc->impersonate_groups == std::vector<std::string>{"dev", "ops"});
  CHECK(rc->impersonate_extra.at("scopes") == std::vector<std::string>{"a", "b"});
  REQUIRE(rc->exec);
  CHECK(rc->exec->api_version == "client.authentication.k8s.io/v1");
  CHECK(rc->exec->command == "kproxy");
  CHECK(rc->exec->args == std::vector<std::string>{"credential", "--server", "https://route"});
  REQUIRE(rc->exec->env.size() == 2);
  CHECK(rc->exec->env[1].name == "API_TOKEN");
  CHECK(rc->exec->env[1].value == "env-secret-1");
  CHECK(rc->exec->install_hint == "install kproxy");
  CHECK(rc->exec->provide_cluster_info);
  CHECK(rc->exec->interactive_mode == "IfAvailable");
  // The exec env token is a secret; ordinary values are not.
  CHECK(Redact("x env-secret-1 ci") == "x REDACTED ci");
}

TEST_CASE("validation errors carry kubectl's wording") {
  TempDir dir;
  FakeKubeEnv fake(dir.path());
  WriteFile(dir.path() / "ca.crt", "CA");
  auto cfg = WriteFile(
      dir.path() / "k.yaml",
      "clusters:\n"
      "- name: ok\n  cluster: {server: https://x}\n"
      "- name: insecure-ca\n  cluster: {server: https://x, certificate-authority: ca.crt, "
      "insecure-skip-tls-verify: true}\n"
      "- name: insecure-data\n  cluster: {server: https://x, certificate-authority-data: Q0E=, "
      "insecure-skip-tls-verify: true}\n"
      "- name: missing-ca\n  cluster: {server: https://x, certificate-authority: gone.crt}\n"
      "- name: no-server\n  cluster: {tls-server-name: x}\n"
      "- name: ftp\n  cluster: {server: https://x, proxy-url: 'ftp://p'}\n"
      "users:\n"
      "- name: ok\n  user: {token: abcdefgh}\n"
      "- name: cert-only\n  user: {client-certificate-data: Q0VSVA==}\n"
      "- name: key-only\n  user: {client-key-data: S0VZ}\n"
      "- name: two\n  user: {token: abcdefgh, username: u, password: 'pw12'}\n"
      "- name: groups\n  user: {token: abcdefgh, as-groups: [g]}\n"
      "- name: uid\n  user: {as-uid: '1'}\n"
      "- name: missing-key\n  user: {client-certificate-data: Q0VSVA==, client-key: gone.key}\n"
      "- name: missing-tokenfile\n  user: {tokenFile: gone.tok}\n"
      "- name: exec-v1-no-mode\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, "
      "command: p}\n"
      "- name: exec-bad-mode\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, "
      "command: p, interactiveMode: Sometimes}\n"
      "- name: exec-no-command\n  user:\n    exec: {apiVersion: "
      "client.authentication.k8s.io/v1beta1}\n"
      "- name: exec-bad-version\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v9, "
      "command: p}\n"
      "contexts:\n"
      "- name: insecure-ca\n  context: {cluster: insecure-ca, user: ok}\n"
      "- name: insecure-data\n  context: {cluster: insecure-data, user: ok}\n"
      "- name: missing-ca\n  context: {cluster: missing-ca, user: ok}\n"
      "- name: no-server\n  context: {cluster: no-server, user: ok}\n"
      "- name: ghost-cluster\n  context: {cluster: ghost, user: ok}\n"
      "- name: ghost-user\n  context: {cluster: ok, user: ghost}\n"
      "- name: no-cluster\n  context: {user: ok}\n"
      "- name: ftp\n  context: {cluster: ftp, user: ok}\n"
      "- name: cert-only\n  context: {cluster: ok, user: cert-only}\n"
      "- name: key-only\n  context: {cluster: ok, user: key-only}\n"
      "- name: two\n  context: {cluster: ok, user: two}\n"
      "- name: groups\n  context: {cluster: ok, user: groups}\n"
      "- name: uid\n  context: {cluster: ok, user: uid}\n"
      "- name: missing-key\n  context: {cluster: ok, user: missing-key}\n"
      "- name: missing-tokenfile\n  context: {cluster: ok, user: missing-tokenfile}\n"
      "- name: exec-v1-no-mode\n  context: {cluster: ok, user: exec-v1-no-mode}\n"
      "- name: exec-bad-mode\n  context: {cluster: ok, user: exec-bad-mode}\n"
      "- name: exec-no-command\n  context: {cluster: ok, user: exec-no-command}\n"
      "- name: exec-bad-version\n  context: {cluster: ok, user: exec-bad-version}\n");
  fake.vars["KUBECONFIG"] = cfg;
  const std::string d = dir.path().string();
  struct Case {
    std::string context;
    ErrorCode code;
    std::string message;
  };
  const Case cases[] = {
      {"insecure-ca", ErrorCode::kConfig,
       "specifying a root certificates file with the insecure flag is not allowed"},
      {"insecure-data", ErrorCode::kConfig,
       "specifying a root certificates file with the insecure flag is not allowed"},
      {"missing-ca", ErrorCode::kConfig,
       "unable to read certificate-authority " + d + "/gone.crt for missing-ca due to open " + d +
           "/gone.crt: no such file or directory"},
      {"no-server", ErrorCode::kConfig, "no server found for cluster \"no-server\""},
      {"ghost-cluster", ErrorCode::kNotFound, "no server found for cluster \"ghost\""},
      {"ghost-user", ErrorCode::kNotFound,
       "user \"ghost\" was not found for context \"ghost-user\""},
      {"no-cluster", ErrorCode::kConfig,
       "invalid configuration: no configuration has been provided (context \"no-cluster\" "
       "names no cluster)"},
      {"ftp", ErrorCode::kConfig,
       "proxy-url \"ftp://p\" for cluster \"ftp\" is not supported: use http://, https:// or "
       "socks5://"},
      {"cert-only", ErrorCode::kConfig,
       "client-key-data or client-key must be specified for cert-only to use the clientCert "
       "authentication method."},
      {"key-only", ErrorCode::kConfig,
       "client-certificate-data or client-certificate must be specified for key-only to use the "
       "clientCert authentication method."},
      {"two", ErrorCode::kConfig,
       "more than one authentication method found for two; found [token basicAuth], only one "
       "is allowed"},
      {"groups", ErrorCode::kConfig,
       "requesting uid, groups or user-extra for groups without impersonating a user"},
      {"uid", ErrorCode::kConfig,
       "requesting uid, groups or user-extra for uid without impersonating a user"},
      {"missing-key", ErrorCode::kConfig,
       "unable to read client-key " + d + "/gone.key for missing-key due to open " + d +
           "/gone.key: no such file or directory"},
      {"missing-tokenfile", ErrorCode::kConfig,
       "unable to read tokenFile " + d + "/gone.tok for missing-tokenfile due to open " + d +
           "/gone.tok: no such file or directory"},
      {"exec-v1-no-mode", ErrorCode::kConfig,
       "interactiveMode must be specified for exec-v1-no-mode to use exec authentication plugin"},
      {"exec-bad-mode", ErrorCode::kConfig,
       "invalid interactiveMode for exec-bad-mode: \"Sometimes\""},
      {"exec-no-command", ErrorCode::kConfig,
       "command must be specified for exec-no-command to use exec authentication plugin"},
      {"exec-bad-version", ErrorCode::kConfig,
       "exec plugin: invalid apiVersion \"client.authentication.k8s.io/v9\" for exec-bad-version"},
      {"nope", ErrorCode::kNotFound, "context was not found for specified context: nope"},
  };
  for (const auto& tc : cases) {
    CAPTURE(tc.context);
    ConfigOverrides o;
    o.context = tc.context;
    auto rc = Load(fake, o);
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().code == tc.code);
    CHECK(rc.error().message == tc.message);
    CHECK(rc.error().message.find('\n') == std::string::npos);
  }
  SUBCASE("no current-context and no --context") {
    auto rc = Load(fake);
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().code == ErrorCode::kConfig);
    CHECK(rc.error().message.find("no configuration has been provided") != std::string::npos);
  }
}

TEST_CASE("--insecure-skip-tls-verify on the command line clears the file's CA") {
  TempDir dir;
  FakeKubeEnv fake(dir.path());
  WriteFile(dir.path() / "ca.crt", "CA");
  auto cfg = WriteFile(dir.path() / "k.yaml",
                       "current-context: x\nclusters:\n- name: c\n  cluster: {server: https://x, "
                       "certificate-authority: ca.crt, tls-server-name: sni}\n"
                       "contexts:\n- name: x\n  context: {cluster: c}\n");
  fake.vars["KUBECONFIG"] = cfg;
  ConfigOverrides o;
  o.insecure_skip_tls_verify = true;
  auto rc = Load(fake, o);
  REQUIRE(rc.ok());
  CHECK(rc->insecure_skip_tls_verify);
  CHECK(rc->ca_data.empty());
  CHECK(rc->tls_server_name == "sni");
  // ...but not when a CA is given on the command line as well.
  o.certificate_authority = (dir.path() / "ca.crt").string();
  rc = Load(fake, o);
  REQUIRE_FALSE(rc.ok());
  CHECK(rc.error().message ==
        "specifying a root certificates file with the insecure flag is not allowed");
  // --server clears the file's tls-server-name unless --tls-server-name is given too.
  ConfigOverrides s;
  s.server = "https://other";
  rc = Load(fake, s);
  REQUIRE(rc.ok());
  CHECK(rc->tls_server_name.empty());
  s.tls_server_name = "flag-sni";
  rc = Load(fake, s);
  REQUIRE(rc.ok());
  CHECK(rc->tls_server_name == "flag-sni");
}

TEST_CASE("secrets from the kubeconfig are registered for redaction") {
  TempDir dir;
  FakeKubeEnv fake(dir.path());
  auto cfg = WriteFile(dir.path() / "k.yaml",
                       "current-context: t\nclusters:\n- name: c\n  cluster: {server: https://x}\n"
                       "users:\n- name: t\n  user: {token: sekrit-token-123}\n"
                       "- name: p\n  user: {username: bob, password: pass-word-456}\n"
                       "- name: k\n  user: {client-certificate-data: Q0VSVA==, "
                       "client-key-data: UFJJVkFURS1LRVktNzg5}\n"
                       "contexts:\n- name: t\n  context: {cluster: c, user: t}\n"
                       "- name: p\n  context: {cluster: c, user: p}\n"
                       "- name: k\n  context: {cluster: c, user: k}\n");
  fake.vars["KUBECONFIG"] = cfg;
  for (const char* ctx : {"t", "p", "k"}) {
    ConfigOverrides o;
    o.context = ctx;
    REQUIRE(Load(fake, o).ok());
  }
  CHECK(Redact("token sekrit-token-123") == "token REDACTED");
  CHECK(Redact("pw pass-word-456") == "pw REDACTED");
  CHECK(Redact("key PRIVATE-KEY-789") == "key REDACTED");
}

TEST_CASE("in-cluster fallback when no kubeconfig exists") {
  TempDir dir;
  FakeKubeEnv fake(dir.path());
  SUBCASE("nothing at all") {
    auto rc = Load(fake);
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().code == ErrorCode::kConfig);
    CHECK(rc.error().message.rfind("invalid configuration: no configuration has been provided",
                                   0) == 0);
  }
  SUBCASE("service account files present") {
    fake.vars["KUBERNETES_SERVICE_HOST"] = "10.0.0.1";
    fake.vars["KUBERNETES_SERVICE_PORT"] = "443";
    WriteFile(fs::path(fake.env.in_cluster_dir) / "token", "sa-token-abcdef\n");
    WriteFile(fs::path(fake.env.in_cluster_dir) / "ca.crt", "SA-CA");
    WriteFile(fs::path(fake.env.in_cluster_dir) / "namespace", "team-a\n");
    auto rc = Load(fake);
    REQUIRE(rc.ok());
    CHECK(rc->server == "https://10.0.0.1:443");
    CHECK(rc->bearer_token == "sa-token-abcdef");
    CHECK(rc->token_file == fake.env.in_cluster_dir + "/token");
    CHECK(rc->ca_data == "SA-CA");
    CHECK(rc->namespace_ == "team-a");
    CHECK(Redact("sa-token-abcdef") == "REDACTED");
    ConfigOverrides o;
    o.namespace_ = "other";
    rc = Load(fake, o);
    REQUIRE(rc.ok());
    CHECK(rc->namespace_ == "other");
  }
  SUBCASE("IPv6 service host and a missing token") {
    fake.vars["KUBERNETES_SERVICE_HOST"] = "fd00::1";
    fake.vars["KUBERNETES_SERVICE_PORT"] = "6443";
    auto rc = Load(fake);
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().message.find(fake.env.in_cluster_dir + "/token") != std::string::npos);
    WriteFile(fs::path(fake.env.in_cluster_dir) / "token", "t0k3n-v6");
    rc = Load(fake);
    REQUIRE(rc.ok());
    CHECK(rc->server == "https://[fd00::1]:6443");
    CHECK(rc->namespace_ == "default");
  }
  SUBCASE("a kubeconfig, when present, wins over in-cluster") {
    fake.vars["KUBERNETES_SERVICE_HOST"] = "10.0.0.1";
    fake.vars["KUBERNETES_SERVICE_PORT"] = "443";
    WriteFile(fs::path(fake.env.home_dir) / ".kube/config", TwoContexts("home", "shared"));
    auto rc = Load(fake);
    REQUIRE(rc.ok());
    CHECK(rc->server == "https://home.shared:6443");
  }
}

TEST_CASE("--request-timeout parsing") {
  TempDir dir;
  FakeKubeEnv fake(dir.path());
  ConfigOverrides o;
  o.server = "https://x";
  struct Case {
    const char* text;
    long long ms;  // -1 = error
  };
  const Case cases[] = {{"0", 0},        {"5", 5000},
                        {"5s", 5000},    {"1m", 60000},
                        {"2h", 7200000}, {"1m30s", 90000},
                        {"250ms", 250},  {"1.5s", 1500},
                        {"", -1},        {"5x", -1},
                        {"-5s", -1},     {"s", -1},
                        {"1.2.3s", -1},  {"99999999999999h", -1}};
  for (const auto& tc : cases) {
    CAPTURE(tc.text);
    o.request_timeout = tc.text;
    auto rc = LoadRestConfig(o, fake.env);
    if (tc.ms < 0) {
      REQUIRE_FALSE(rc.ok());
      CHECK(rc.error().code == ErrorCode::kUsage);
      CHECK(rc.error().message.rfind("Invalid timeout value.", 0) == 0);
    } else {
      REQUIRE(rc.ok());
      CHECK(rc->timeout.count() == tc.ms);
    }
  }
}

}  // namespace
}  // namespace kproxy
