// Label and field selectors with the apiserver's grammar.
#include <doctest/doctest.h>

#include "tests/sim/api/selectors.h"

namespace kproxy::sim {

TEST_CASE("label selectors: equality, sets, existence") {
  std::map<std::string, std::string> web = {{"app", "web"}, {"tier", "frontend"}};
  std::map<std::string, std::string> db = {{"app", "db"}};
  struct Case {
    const char* text;
    bool web, db;
  };
  const Case cases[] = {
      {"", true, true},
      {"app=web", true, false},
      {"app==web", true, false},
      {"app!=web", false, true},
      {"app=web,tier=frontend", true, false},
      {"app in (web, db)", true, true},
      {"app notin (web)", false, true},
      {"tier", true, false},
      {"!tier", false, true},
      {"app=web, !tier", false, false},
      {"app=", false, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    auto sel = ParseLabelSelector(c.text);
    REQUIRE(sel.ok());
    CHECK(sel->Matches(web) == c.web);
    CHECK(sel->Matches(db) == c.db);
  }
}

TEST_CASE("label selectors: malformed text is an error, not a crash") {
  for (const char* bad : {"=web", "app=web,", "app in web", "app in (a", "app in (a b)", "!",
                          "app=web;x", "app >< 3", ",", "app=(x)"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseLabelSelector(bad).ok());
  }
}

TEST_CASE("field selectors") {
  auto sel = ParseFieldSelector("status.phase=Running,metadata.name!=db-0");
  REQUIRE(sel.ok());
  auto value_of = [](std::string phase, std::string name) {
    return [=](const std::string& f, std::string* out) {
      if (f == "status.phase")
        *out = phase;
      else if (f == "metadata.name")
        *out = name;
      else
        return false;
      return true;
    };
  };
  CHECK(sel->Matches(value_of("Running", "web")));
  CHECK_FALSE(sel->Matches(value_of("Running", "db-0")));
  CHECK_FALSE(sel->Matches(value_of("Pending", "web")));
  CHECK(ParseFieldSelector("metadata.name==x")->requirements.front().values.front() == "x");
  CHECK_FALSE(ParseFieldSelector("justtext").ok());
  CHECK_FALSE(ParseFieldSelector("=x").ok());
}

}  // namespace kproxy::sim
