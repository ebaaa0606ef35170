#include <doctest/doctest.h>

#include "tests/support/test_env.h"
#include "tests/support/transcript.h"

namespace kproxy::test {

TEST_CASE("every vector transcript loads and has both directions") {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(VectorsDir())) {
    if (entry.path().extension() != ".transcript") continue;
    ++count;
    Transcript t = LoadTranscript(entry.path());
    CHECK(!t.ClientBytes().empty());
    CHECK(!t.ServerBytes().empty());
  }
  CHECK(count == 6);
}

TEST_CASE("splitters preserve the bytes") {
  std::string s = "hello, transcript splitting";
  for (auto parts : {SplitWhole(s), SplitBytewise(s), SplitRandom(s, 7)}) {
    std::string joined;
    for (auto& p : parts) joined += p;
    CHECK(joined == s);
  }
}

}  // namespace kproxy::test
