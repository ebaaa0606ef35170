// -o json / -o yaml renderings. Expected texts are go-yaml v2 / encoding/json behaviour
// (the conformance suite also compares with real kubectl).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "core/rest/object_format.h"
#include "core/rest/request_headers.h"
#include "core/rest/yaml_format.h"

namespace kproxy {
namespace {

using nlohmann::json;

TEST_CASE("rest format: JSON is indented by 4 with HTML-safe escapes") {
  json j = json::parse(R"({"b":[1,{}],"a":"<x> & y","c":{}})");
  CHECK(KubectlJson(j) ==
        "{\n    \"a\": \"\\u003cx\\u003e \\u0026 y\",\n    \"b\": [\n        1,\n        {}\n"
        "    ],\n    \"c\": {}\n}\n");
}

TEST_CASE("rest format: List wrapper adds apiVersion/kind to items") {
  json l = KubectlList(json::parse(R"([{"metadata":{"name":"a"}},{"kind":"X","apiVersion":"v2"}])"),
                       "v1", "Pod");
  CHECK(l["kind"] == "List");
  CHECK(l["metadata"] == json::parse(R"({"resourceVersion":""})"));
  CHECK(l["items"][0]["kind"] == "Pod");
  CHECK(l["items"][0]["apiVersion"] == "v1");
  CHECK(l["items"][1]["kind"] == "X");
  CHECK(KubectlList(json::object(), "v1", "Pod")["items"].empty());
}

TEST_CASE("rest format: YAML structure") {
  CHECK(KubectlYaml(json::parse(R"({"a":{"b":[1,{"c":"d","e":[]}],"f":{}},"g":[[1,2],[]]})")) ==
        "a:\n  b:\n  - 1\n  - c: d\n    e: []\n  f: {}\ng:\n- - 1\n  - 2\n- []\n");
  CHECK(KubectlYaml(json::object()) == "{}\n");
  CHECK(KubectlYaml(json::parse("[]")) == "[]\n");
  CHECK(
      KubectlYaml(
          json::parse(R"({"n":null,"t":true,"i":-3,"f":0.5,"big":1000000.0,"small":0.00001})")) ==
      "big: 1e+06\nf: 0.5\ni: -3\n\"n\": null\nsmall: 1e-05\nt: true\n");  // "n" is a YAML 1.1 bool
}

TEST_CASE("rest format: YAML string styles") {
  auto y = [](const std::string& s) { return KubectlYaml(json{{"k", s}}); };
  CHECK(y("plain text") == "k: plain text\n");
  CHECK(y("") == "k: \"\"\n");
  CHECK(y("true") == "k: \"true\"\n");
  CHECK(y("123") == "k: \"123\"\n");
  CHECK(y("1.5") == "k: \"1.5\"\n");
  CHECK(y("2024-05-01T10:00:00Z") == "k: \"2024-05-01T10:00:00Z\"\n");
  CHECK(y("10.0.0.1") == "k: 10.0.0.1\n");
  CHECK(y("a: b") == "k: 'a: b'\n");
  CHECK(y("it's") == "k: it's\n");
  CHECK(y("'q'") == "k: '''q'''\n");
  CHECK(y("- x") == "k: '- x'\n");
  CHECK(y("-x") == "k: -x\n");
  CHECK(y("tab\there") == "k: \"tab\\there\"\n");
  CHECK(y("\x01") == "k: \"\\x01\"\n");
  CHECK(y("one\ntwo") == "k: |-\n  one\n  two\n");
  CHECK(y("one\ntwo\n") == "k: |\n  one\n  two\n");
  CHECK(y(" lead\n") == "k: |2\n   lead\n");
  CHECK(y("x \ny") == "k: \"x \\ny\"\n");
}

TEST_CASE("rest format: YAML folds long lines past column 80") {
  std::string words;
  for (int i = 0; i < 20; ++i) words += "word" + std::to_string(i) + " ";
  words.pop_back();
  std::string y = KubectlYaml(json{{"key", words}});
  // "key: " + words up to the first space beyond column 80, then an indented continuation.
  CHECK(y ==
        "key: word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12\n"
        "  word13 word14 word15 word16 word17 word18 word19\n");
  std::string token(100, 'x');
  CHECK(KubectlYaml(json{{"k", token}}) == "k: " + token + "\n");
}

TEST_CASE("rest format: YAML key order is go-yaml's natural order") {
  CHECK(YamlKeyLess("k2", "k10"));
  CHECK_FALSE(YamlKeyLess("k10", "k2"));
  CHECK(YamlKeyLess("a", "b"));
  CHECK(YamlKeyLess("a", "ab"));
  CHECK(YamlKeyLess("app", "app.kubernetes.io/name"));
  CHECK(KubectlYaml(json{{"k10", 1}, {"k2", 2}, {"k1", 3}}) == "k1: 3\nk2: 2\nk10: 1\n");
}

TEST_CASE("rest format: random JSON values never crash the YAML emitter") {
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    std::string s;
    size_t n = rng() % 40;
    for (size_t k = 0; k < n; ++k) s += static_cast<char>(rng() % 256);
    json j = {{"s", s}, {"nested", {{"list", {s, s + "\n", json::object()}}}}};
    std::string y = KubectlYaml(j);
    CHECK_FALSE(y.empty());
    CHECK(y.back() == '\n');
  }
}

TEST_CASE("rest format: impersonation extra keys are lower-cased and percent-encoded") {
  CHECK(EscapeExtraKey("Scopes") == "scopes");
  CHECK(EscapeExtraKey("example.com/Team Name") == "example.com%2Fteam%20name");
  CHECK(EscapeExtraKey("50%") == "50%25");
  CHECK(EscapeExtraKey("a_b-c.d~e") == "a_b-c.d~e");
  RestConfig c;
  CHECK(ImpersonationHeaders(c).empty());
  c.impersonate_user = "u";
  c.impersonate_groups = {"g1", "g2"};
  auto h = ImpersonationHeaders(c);
  REQUIRE(h.size() == 3);
  CHECK(h[0] == std::pair<std::string, std::string>{"Impersonate-User", "u"});
  CHECK(h[2] == std::pair<std::string, std::string>{"Impersonate-Group", "g2"});
  CHECK(UserAgent().find(" kubernetes/") != std::string::npos);
}

}  // namespace
}  // namespace kproxy
