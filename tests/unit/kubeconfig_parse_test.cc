// The kubeconfig file parser: typing as client-go, base64, YAML and JSON, the broken-file corpus
// (tests/data/kubeconfig/bad-*.yaml) and truncated/mutated input that must fail cleanly.
#include "core/kubeconfig/kubeconfig_parse.h"

#include <doctest/doctest.h>

#include <random>

#include "core/kubeconfig/loader.h"
#include "tests/unit/kubeconfig_test_util.h"

namespace kproxy::kubeconfig {
namespace {

namespace fs = std::filesystem;

const char* const kFull = R"(apiVersion: v1
kind: Config
current-context: dev
preferences: {colors: true}
clusters:
- name: dev
  cluster:
    server: https://dev.example:6443
    certificate-authority-data: Q0EtQllURVM=
    tls-server-name: api.dev
    insecure-skip-tls-verify: false
    proxy-url: http://proxy:3128
    disable-compression: true
    extensions:
    - name: client.authentication.k8s.io/exec
      extension: {audience: dev, retries: 3, strict: yes, ratio: 0.5, nothing: null}
users:
- name: dev
  user:
    token: "y"
    auth-provider:
      name: oidc
      config: {client-id: kubectl, id-token: eyJ.abc.def}
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, "--x=1"]
      env: [{name: A, value: "1"}]
contexts:
- name: dev
  context: {cluster: dev, user: dev, namespace: team}
  )";

TEST_CASE("a full kubeconfig parses with every field") {
  auto cfg = ParseKubeconfig(kFull, "full.yaml", "/etc/kube/full.yaml");
  REQUIRE(cfg.ok());
  CHECK(cfg->current_context == "dev");
  CHECK(cfg->preferences == Json{{"colors", true}});
  const Cluster& c = cfg->clusters.at("dev");
  CHECK(c.origin == "/etc/kube/full.yaml");
  CHECK(c.server == "https://dev.example:6443");
  CHECK(c.certificate_authority_data == "CA-BYTES");
  CHECK(c.tls_server_name == "api.dev");
  CHECK_FALSE(c.insecure_skip_tls_verify);
  CHECK(c.proxy_url == "http://proxy:3128");
  CHECK(c.disable_compression);
  REQUIRE(c.extensions.size() == 1);
  CHECK(c.extensions[0].extension.dump() ==
        R"({"audience":"dev","retries":3,"strict":true,"ratio":0.5,"nothing":null})");
  const AuthInfo& u = cfg->users.at("dev");
  CHECK(u.token == "y");  // quoted: a string, unlike a plain y
  REQUIRE(u.auth_provider);
  CHECK(u.auth_provider->name == "oidc");
  CHECK(u.auth_provider->config.at("id-token") == "eyJ.abc.def");
  REQUIRE(u.exec);
  CHECK(u.exec->args == std::vector<std::string>{"get-token", "--x=1"});
  REQUIRE(u.exec->env);
  CHECK((*u.exec->env)[0].value == "1");
  CHECK(cfg->contexts.at("dev").namespace_ == "team");
}

TEST_CASE("JSON kubeconfigs are YAML too") {
  const char* json = R"({"apiVersion":"v1","kind":"Config","current-context":"j",
    "clusters":[{"name":"c","cluster":{"server":"https://j","insecure-skip-tls-verify":true}}],
    "users":[{"name":"u","user":{"as-groups":["a","b"],"as-user-extra":{"k":["v"]}}}],
    "contexts":[{"name":"j","context":{"cluster":"c","user":"u"}}]})";
  auto cfg = ParseKubeconfig(json, "j.json", "/j.json");
  REQUIRE(cfg.ok());
  CHECK(cfg->clusters.at("c").insecure_skip_tls_verify);
  CHECK(cfg->users.at("u").as_groups == std::vector<std::string>{"a", "b"});
  CHECK(cfg->users.at("u").as_user_extra.at("k") == std::vector<std::string>{"v"});
  CHECK(cfg->contexts.at("j").cluster == "c");
}

TEST_CASE("empty and null values leave fields unset") {
  auto empty = ParseKubeconfig("", "e.yaml", "/e.yaml");
  REQUIRE(empty.ok());
  CHECK(empty->clusters.empty());
  auto nulls = ParseKubeconfig(
      "clusters:\n- name: c\n  cluster:\n    server: ~\n"
      "    tls-server-name:\nusers: null\n",
      "n.yaml", "/n.yaml");
  REQUIRE(nulls.ok());
  CHECK(nulls->clusters.at("c").server.empty());
  CHECK(nulls->users.empty());
}

TEST_CASE("non-string map keys in free-form fields become their text, as in kubectl") {
  auto cfg = ParseKubeconfig(
      "clusters:\n- name: c\n  cluster:\n    extensions:\n    - name: e\n"
      "      extension: {n: 1, yes: 2, 0x10: 3, ~: 4, 'n': 5}\n",
      "k.yaml", "/k.yaml");
  REQUIRE(cfg.ok());
  CHECK(cfg->clusters.at("c").extensions[0].extension.dump() ==
        R"({"false":1,"true":2,"16":3,"null":4,"n":5})");
}

TEST_CASE("plain scalars are typed as go-yaml v2 types them") {
  struct Case {
    const char* value;
    bool ok;
  };
  const Case cases[] = {{"y", false},      {"no", false},    {"On", false},  {"true", false},
                        {"123", false},    {"0x1F", false},  {"1e3", false}, {"0.5", false},
                        {"\"123\"", true}, {"'true'", true}, {"abc", true},  {"1.2.3", true},
                        {"v1", true},      {"yes-no", true}};
  for (const auto& tc : cases) {
    CAPTURE(tc.value);
    auto cfg = ParseKubeconfig(
        std::string("contexts:\n- name: x\n  context: {namespace: ") + tc.value + "}\n", "t.yaml",
        "/t.yaml");
    CHECK(cfg.ok() == tc.ok);
  }
}

TEST_CASE("base64 fields decode like Go's StdEncoding") {
  struct Case {
    const char* in;
    const char* out;  // nullptr = error
    int bad_byte;
  };
  const Case cases[] = {
      {"", "", 0},
      {"Zm9v", "foo", 0},
      {"Zm9vYg==", "foob", 0},
      {"Zm9vYmE=", "fooba", 0},
      {"Zm9v\nYmFy\r\n", "foobar", 0},
      {"Zm9", nullptr, 0},
      {"abc!", nullptr, 3},
      {"Zm9v=", nullptr, 4},
      {"Z===", nullptr, 1},
      {"Zm9vYg=a", nullptr, 6},
      {"Zm=vYg==", nullptr, 2},
      {"Zm 9v", nullptr, 2},
  };
  for (const auto& tc : cases) {
    CAPTURE(tc.in);
    auto r = DecodeBase64Field(tc.in);
    if (tc.out) {
      REQUIRE(r.ok());
      CHECK(*r == tc.out);
    } else {
      REQUIRE_FALSE(r.ok());
      if (tc.bad_byte)
        CHECK(r.error().message ==
              "illegal base64 data at input byte " + std::to_string(tc.bad_byte));
    }
  }
}

// The corpus: each bad-*.yaml starts with "# expect: <text>"; loading it through
// LoadRestConfig must fail with exactly one line containing that text.
TEST_CASE("broken-file corpus gives one clear line each") {
  const fs::path corpus = test::SourceDir() / "tests/data/kubeconfig";
  test::TempDir dir;
  test::FakeKubeEnv fake(dir.path());
  int files = 0;
  for (const auto& entry : fs::directory_iterator(corpus)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("bad-", 0) != 0) continue;
    ++files;
    CAPTURE(name);
    std::string text = test::ReadFileOrDie(entry.path());
    REQUIRE(text.rfind("# expect: ", 0) == 0);
    std::string expect = text.substr(10, text.find('\n') - 10);
    // Copy into the temp dir so messages naming referenced files are predictable.
    fs::copy_file(entry.path(), fs::path(fake.env.cwd) / name);
    for (size_t p; (p = expect.find("@DIR@")) != std::string::npos;)
      expect.replace(p, 5, fake.env.cwd);
    ConfigOverrides o;
    o.kubeconfig = name;
    auto rc = LoadRestConfig(o, fake.env);
    REQUIRE_FALSE(rc.ok());
    CHECK((rc.error().code == ErrorCode::kConfig || rc.error().code == ErrorCode::kNotFound));
    CHECK(rc.error().message.find(expect) != std::string::npos);
    CHECK(rc.error().message.find('\n') == std::string::npos);
    CHECK(rc.error().message.size() < 400);
  }
  CHECK(files >= 20);
}

// Whole files are parsed (a kubeconfig is read completely first), so the partial-input rule
// becomes: every truncation and random mutation of a valid file parses or fails cleanly.
TEST_CASE("every prefix of a valid kubeconfig parses or fails with one line") {
  const std::string full = kFull;
  for (size_t n = 0; n <= full.size(); ++n) {
    auto r = ParseKubeconfig(std::string_view(full).substr(0, n), "p.yaml", "/p.yaml");
    if (!r.ok()) {
      CHECK(r.error().code == ErrorCode::kConfig);
      CHECK(r.error().message.rfind("error loading config file \"p.yaml\": ", 0) == 0);
      CHECK(r.error().message.find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("random mutations never crash") {
  std::mt19937 rng(20261129);
  const std::string full = kFull;
  const char alphabet[] = "{}[]:-,'\"&*!|>%@\t\n #abc0=\\\x00\xff";
  int failures = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string s = full;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % s.size();
      s[pos] = alphabet[rng() % (sizeof alphabet - 1)];
    }
    auto r = ParseKubeconfig(s, "m.yaml", "/m.yaml");
    if (!r.ok()) {
      ++failures;
      CHECK(r.error().message.rfind("error loading config file \"m.yaml\": ", 0) == 0);
    }
  }
  CHECK(failures > 0);  // the mutations do produce broken files
}

}  // namespace
}  // namespace kproxy::kubeconfig
