#include <doctest/doctest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include "auth/auth_env.h"
#include "auth/token_cache.h"
#include "tests/support/test_env.h"

namespace kproxy::auth {
namespace {

mode_t Mode(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

CacheEntry Entry(std::string token) {
  CacheEntry e;
  e.route = "https://proxy.example.com";
  e.mode = "browser";
  e.token = std::move(token);
  e.obtained_at = 1700000000;
  e.method = "access-proxy-login";
  return e;
}

TEST_CASE("token cache: default directory follows XDG_CACHE_HOME, else HOME/.cache") {
  auto env = [](std::map<std::string, std::string> vars) {
    return [vars](const std::string& k) -> std::optional<std::string> {
      auto it = vars.find(k);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  };
  CHECK(*TokenCache::DefaultDir(env({{"XDG_CACHE_HOME", "/x"}, {"HOME", "/h"}})) == "/x/kproxy");
  CHECK(*TokenCache::DefaultDir(env({{"HOME", "/h"}})) == "/h/.cache/kproxy");
  // A relative XDG_CACHE_HOME is invalid per the XDG spec and ignored.
  CHECK(*TokenCache::DefaultDir(env({{"XDG_CACHE_HOME", "rel"}, {"HOME", "/h"}})) ==
        "/h/.cache/kproxy");
  CHECK_FALSE(TokenCache::DefaultDir(env({})).ok());
}

TEST_CASE("token cache: key is SHA-256 hex of route + mode") {
  // echo -n $'https://proxy.example.com\nbrowser' | sha256sum
  CHECK(TokenCache::Key("https://proxy.example.com", "browser") ==
        "6f1fc85655e0097256aaa7073a37a4dda87630bc315e3465338611d5374c4c66");
  CHECK(TokenCache::Key("https://a", "browser") != TokenCache::Key("https://a", "service-account"));
  CHECK(TokenCache::Key("https://a", "browser") != TokenCache::Key("https://b", "browser"));
}

TEST_CASE("token cache: save/load round trip with modes 0700/0600 and no temp files left") {
  test::TempDir tmp;
  auto dir = tmp.path() / "cache" / "kproxy";
  TokenCache cache(dir);
  std::string key = TokenCache::Key("https://proxy.example.com", "browser");
  CHECK(cache.Load(key)->has_value() == false);
  CacheEntry e = Entry("tok-1");
  e.expiry = 1700003600;
  e.last_good_probe = 1700000100;
  REQUIRE(cache.Save(key, e).ok());
  CHECK(Mode(dir) == 0700);
  CHECK(Mode(cache.EntryPath(key)) == 0600);
  auto back = cache.Load(key);
  REQUIRE(back.ok());
  REQUIRE(back->has_value());
  CHECK((*back)->token == "tok-1");
  CHECK(*(*back)->expiry == 1700003600);
  CHECK(*(*back)->last_good_probe == 1700000100);
  CHECK_FALSE((*back)->rejected);
  e.rejected = true;
  REQUIRE(cache.Save(key, e).ok());
  CHECK((*cache.Load(key))->rejected);
  int files = 0;
  for (const auto& de : std::filesystem::directory_iterator(dir)) {
    CHECK(de.path().filename().string().rfind(".tmp", 0) != 0);
    ++files;
  }
  CHECK(files == 1);
  // An existing, too-open directory is tightened.
  ::chmod(dir.c_str(), 0755);
  REQUIRE(cache.Save(key, e).ok());
  CHECK(Mode(dir) == 0700);
}

TEST_CASE("token cache: corrupt files read as absent; list and remove") {
  test::TempDir tmp;
  TokenCache cache(tmp.path());
  std::string k1 = TokenCache::Key("https://a", "browser");
  std::string k2 = TokenCache::Key("https://b", "browser");
  REQUIRE(cache.Save(k1, Entry("t1")).ok());
  REQUIRE(cache.Save(k2, Entry("t2")).ok());
  { std::ofstream(cache.EntryPath(k2)) << "{not json"; }
  CHECK_FALSE(cache.Load(k2)->has_value());
  CHECK(cache.List()->size() == 1);
  REQUIRE(cache.SetPendingUrl(k1, "https://idp/sign_in").ok());
  REQUIRE(cache.MarkAbandoned(k1, 42).ok());
  CHECK(cache.PendingUrl(k1) == "https://idp/sign_in");
  CHECK(*cache.AbandonedAt(k1) == 42);
  REQUIRE(cache.Remove(k1).ok());
  CHECK_FALSE(cache.Load(k1)->has_value());
  CHECK(cache.PendingUrl(k1).empty());
  CHECK_FALSE(cache.AbandonedAt(k1).has_value());
  CHECK(cache.Remove(k1).ok());  // absent is fine
}

TEST_CASE(
    "token cache: the lock is exclusive across descriptors, bounded, and never the data file") {
  test::TempDir tmp;
  TokenCache cache(tmp.path());
  std::string key = TokenCache::Key("https://a", "browser");
  auto first = cache.Lock(key, std::chrono::milliseconds(100));
  REQUIRE(first.ok());
  CHECK(std::filesystem::exists(tmp.path() / (key + ".lock")));
  CHECK_FALSE(std::filesystem::exists(cache.EntryPath(key)));
  int waits = 0;
  auto t0 = std::chrono::steady_clock::now();
  auto second = cache.Lock(key, std::chrono::milliseconds(300), [&] {
    ++waits;
    return true;
  });
  CHECK_FALSE(second.ok());
  CHECK(second.error().code == ErrorCode::kTimeout);
  CHECK(waits >= 2);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
  // Data-file writes are not blocked by the lock.
  CHECK(cache.Save(key, Entry("t")).ok());
  // The waiter may give up (SIGINT) without waiting for the timeout.
  auto gave_up = cache.Lock(key, std::chrono::seconds(30), [] { return false; });
  REQUIRE_FALSE(gave_up.ok());
  CHECK(gave_up.error().code == ErrorCode::kCancelled);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  *first = CacheLock();  // release
  CHECK(cache.Lock(key, std::chrono::milliseconds(100)).ok());
}

TEST_CASE("token cache: N threads doing check-login-save under the lock log in once") {
  test::TempDir tmp;
  TokenCache cache(tmp.path());
  std::string key = TokenCache::Key("https://a", "browser");
  std::atomic<int> logins{0};
  std::vector<std::thread> threads;
  std::vector<std::string> got(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto lock = cache.Lock(key, std::chrono::seconds(10));
      if (!lock.ok()) return;  // got[i] stays empty and the check below fails
      auto e = cache.Load(key);
      if (!e->has_value()) {
        ++logins;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        (void)cache.Save(key, Entry("login-" + std::to_string(i)));
        e = cache.Load(key);
      }
      if (e.ok() && e->has_value()) got[i] = (*e)->token;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(logins == 1);
  CHECK_FALSE(got[0].empty());
  for (const auto& g : got) CHECK(g == got[0]);
}

TEST_CASE("crypto random: 128-bit state is 32 hex chars and differs each time") {
  auto a = CryptoRandomHex(16), b = CryptoRandomHex(16);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->size() == 32);
  CHECK(*a != *b);
  CHECK(a->find_first_not_of("0123456789abcdef") == std::string::npos);
}

}  // namespace
}  // namespace kproxy::auth
