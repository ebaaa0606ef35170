#include <doctest/doctest.h>

#include "core/remotecommand/protocol_version.h"
#include "core/remotecommand/stream_options.h"

namespace kproxy::remotecommand {

TEST_CASE("protocol names parse to versions") {
  struct Case {
    const char* name;
    ProtocolVersion version;
    bool base64;
  };
  for (Case c : {Case{"v5.channel.k8s.io", ProtocolVersion::kV5, false},
                 Case{"v4.channel.k8s.io", ProtocolVersion::kV4, false},
                 Case{"v3.channel.k8s.io", ProtocolVersion::kV3, false},
                 Case{"v2.channel.k8s.io", ProtocolVersion::kV2, false},
                 Case{"channel.k8s.io", ProtocolVersion::kV1, false},
                 Case{"v4.base64.channel.k8s.io", ProtocolVersion::kV4, true},
                 Case{"base64.channel.k8s.io", ProtocolVersion::kV1, true}}) {
    CAPTURE(c.name);
    Result<NegotiatedProtocol> p = ParseProtocolName(c.name);
    REQUIRE(p.ok());
    CHECK(p->version == c.version);
    CHECK(p->base64 == c.base64);
    if (!c.base64) CHECK(std::string(ProtocolName(c.version)) == c.name);
  }
  for (const char* bad :
       {"", "v6.channel.k8s.io", "V5.channel.k8s.io", "v5.channel.k8s.io ", "portforward.k8s.io",
        "SPDY/3.1+portforward.k8s.io", "v1.channel.k8s.io"}) {
    CAPTURE(bad);
    Result<NegotiatedProtocol> p = ParseProtocolName(bad);
    REQUIRE_FALSE(p.ok());
    CHECK(p.error().code == ErrorCode::kProtocol);
  }
}

TEST_CASE("stream options from the exec query, as the API server reads them") {
  using Q = std::vector<std::pair<std::string, std::string>>;
  Result<StreamOptions> o = StreamOptionsFromQuery(
      Q{{"command", "sh"}, {"container", "main"}, {"stderr", "true"}, {"stdout", "true"}});
  REQUIRE(o.ok());
  CHECK(o->stdout);
  CHECK(o->stderr);
  CHECK_FALSE(o->stdin);
  CHECK_FALSE(o->tty);
  o = StreamOptionsFromQuery(Q{{"stdin", "1"}, {"stdout", "T"}, {"stderr", "True"}, {"tty", "t"}});
  REQUIRE(o.ok());
  CHECK(o->stdin);
  CHECK(o->tty);
  CHECK_FALSE(o->stderr);  // the tty merges stderr
  o = StreamOptionsFromQuery(Q{{"stdin", "false"}, {"command", "ls"}});
  REQUIRE_FALSE(o.ok());
  CHECK(o.error().message == "you must specify at least 1 of stdin, stdout, stderr");
  o = StreamOptionsFromQuery(Q{{"stdout", "yes"}});
  REQUIRE_FALSE(o.ok());
  CHECK(o.error().code == ErrorCode::kUsage);
}

}  // namespace kproxy::remotecommand
