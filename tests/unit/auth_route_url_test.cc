#include <doctest/doctest.h>

#include "auth/route_url.h"

namespace kproxy::auth {
namespace {

TEST_CASE("route url: normalisation for cache keys and the login request") {
  CHECK(*NormalizeRouteUrl("https://Proxy.Example.COM:443/") == "https://proxy.example.com");
  CHECK(*NormalizeRouteUrl("HTTPS://proxy.example.com") == "https://proxy.example.com");
  CHECK(*NormalizeRouteUrl("https://proxy.example.com:8443//") == "https://proxy.example.com:8443");
  CHECK(*NormalizeRouteUrl("http://h:80/k8s/") == "http://h/k8s");
  CHECK(*NormalizeRouteUrl("http://h:443") == "http://h:443");
  CHECK(*NormalizeRouteUrl("https://[::1]:443/") == "https://[::1]");
  CHECK(*NormalizeRouteUrl("https://[::1]:6443") == "https://[::1]:6443");
  CHECK(*NormalizeRouteUrl("https://h/x?y=1#z") == "https://h/x");
  for (const char* bad : {"proxy.example.com", "ftp://h", "https://", "https://:443",
                          "https://h:abc", "https://user@h", "https://h:123456",
                          "http://127.0.0.1:8080:80", "https://[::1", "https://a]:1"}) {
    CHECK_FALSE(NormalizeRouteUrl(bad).ok());
  }
}

TEST_CASE("route url: percent-encoding round trip and RFC 3986 unreserved set") {
  CHECK(PercentEncode("http://127.0.0.1:5/p/callback?state=ab") ==
        "http%3A%2F%2F127.0.0.1%3A5%2Fp%2Fcallback%3Fstate%3Dab");
  CHECK(PercentEncode("a-b_c.d~e f") == "a-b_c.d~e%20f");
  CHECK(*PercentDecode("a%2Fb+c%7e") == "a/b c~");
  CHECK_FALSE(PercentDecode("%").ok());
  CHECK_FALSE(PercentDecode("%4").ok());
  CHECK_FALSE(PercentDecode("%zz").ok());
  auto q = ParseQuery("state=1&&pomerium_jwt=a%2Eb&flag");
  REQUIRE(q.ok());
  REQUIRE(q->size() == 3);
  CHECK((*q)[1].second == "a.b");
  CHECK((*q)[2].first == "flag");
  CHECK_FALSE(ParseQuery("a=%G0").ok());
}

}  // namespace
}  // namespace kproxy::auth
