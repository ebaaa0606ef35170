// ProtocolAttempts, the fallback loop the exec and port-forward sessions share, with a scripted
// dialer: which protocols are dialed with which headers, what is printed, what the protocol
// memory holds afterwards, and the error the session ends with.
#include <doctest/doctest.h>

#include <deque>
#include <sstream>

#include "core/session/protocol_attempts.h"
#include "tests/support/test_env.h"

namespace kproxy {
namespace {

class FakeTransport : public StreamTransport {
 public:
  explicit FakeTransport(StreamProtocol kind) : kind_(kind) {}
  StreamConnection* connection() override { return nullptr; }
  StreamProtocol kind() const override { return kind_; }
  const std::string& negotiated() const override { return negotiated_; }
  void SetCallbacks(Callbacks) override {}
  void Flush() override {}
  size_t BufferedBytes() const override { return 0; }
  void SetReading(bool) override {}
  void Close() override {}

 private:
  StreamProtocol kind_;
  std::string negotiated_ = "v5.channel.k8s.io";
};

class NoDial : public PendingDial {};

AttemptFailure Refused(RefusalKind kind, std::string headline, ErrorCode code,
                       std::string verb = "") {
  AttemptFailure f;
  f.stage = FailureStage::kHandshake;
  f.error = MakeError(ErrorCode::kUpgradeRejected, "upgrade refused");
  f.diagnosis.kind = kind;
  f.diagnosis.code = code;
  f.diagnosis.headline = std::move(headline);
  f.diagnosis.verb = std::move(verb);
  f.diagnosis.resource = "pods/exec";
  return f;
}

// One attempt's scripted result: a failure, or (nullopt) a transport of the dialed kind.
using Outcome = std::optional<AttemptFailure>;

const char* TestName(StreamProtocol p) {
  return p == StreamProtocol::kWebSocket ? "ws-name" : "spdy-name";
}

struct Rig {
  std::unique_ptr<EventLoop> loop = EventLoop::Create().value();
  bool stopped = false;
  test::TempDir dir;
  ProtocolMemory memory{(dir.path() / "protocols.json").string(), 3600};
  UpgradeTarget target;
  std::ostringstream diag;
  std::deque<Outcome> script;
  std::vector<std::pair<StreamProtocol, std::string>> dialed;  // protocol, Authorization
  std::vector<StreamProtocol> connected;
  std::optional<Error> finished;
  std::vector<AttemptFailure> redial_failures;
  int all_refused = 0;
  int reauth_calls = 0;
  std::optional<Result<UpgradeHeaders>> reauth_result;
  bool accept_on_connect = true;
  std::unique_ptr<ProtocolAttempts> attempts;

  ProtocolAttemptsOptions Options(std::vector<StreamProtocol> order) {
    ProtocolAttemptsOptions o;
    o.order = std::move(order);
    o.name = TestName;
    o.memory = &memory;
    o.memory_server = "https://cluster";
    o.memory_kind = "exec";
    o.now_seconds = [] { return int64_t{1000}; };
    if (reauth_result) {
      o.reauthenticate = [this]() -> Result<UpgradeHeaders> {
        ++reauth_calls;
        return *reauth_result;
      };
    }
    return o;
  }

  void Make(std::vector<StreamProtocol> order, bool legacy = false, bool redial = false) {
    target.headers = {{"Authorization", "Bearer old"}};
    ProtocolAttempts::Callbacks cb;
    cb.dial = [this](StreamProtocol p, const UpgradeTarget& t, DialDone done) {
      dialed.emplace_back(p, t.headers.empty() ? "" : t.headers[0].second);
      REQUIRE(!script.empty());
      Outcome o = script.front();
      script.pop_front();
      loop->Post([p, o, done] {
        if (o) {
          done(MakeError(o->error.code, o->error.message), *o);
        } else {
          done(std::unique_ptr<StreamTransport>(new FakeTransport(p)), AttemptFailure{});
        }
      });
      return std::unique_ptr<PendingDial>(new NoDial);
    };
    cb.on_connected = [this](std::unique_ptr<StreamTransport> t) {
      connected.push_back(t->kind());
      if (accept_on_connect) attempts->Accept(t->kind());
      stopped = true;
    };
    cb.on_finished = [this](Error e) {
      finished = e;
      stopped = true;
    };
    if (redial) {
      cb.on_redial_failed = [this](AttemptFailure f) {
        redial_failures.push_back(f);
        stopped = true;
      };
    }
    if (legacy) {
      cb.on_all_refused = [this] {
        ++all_refused;
        stopped = true;
      };
    }
    attempts = std::make_unique<ProtocolAttempts>(*loop, target, diag, Options(std::move(order)),
                                                  std::move(cb));
  }

  void Run() {
    attempts->Dial();
    Wait();
  }
  // Runs the loop until a callback ended the step (bounded).
  void Wait() {
    stopped = false;
    loop->RunUntil([this] { return stopped; }, std::chrono::milliseconds(2000));
  }
  std::optional<RememberedOutcome> Remembered() const {
    return memory.Lookup("https://cluster", "exec", 1000);
  }
};

const std::vector<StreamProtocol> kBoth = {StreamProtocol::kWebSocket, StreamProtocol::kSpdy};

TEST_CASE("protocol attempts: an empty 403 on WebSocket falls back silently; both remembered") {
  Rig r;
  r.script = {Refused(RefusalKind::kUpgradeRefused, "", ErrorCode::kUpgradeRejected), std::nullopt};
  r.Make(kBoth);
  r.Run();
  REQUIRE(r.dialed.size() == 2);
  CHECK(r.dialed[0].first == StreamProtocol::kWebSocket);
  CHECK(r.dialed[1].first == StreamProtocol::kSpdy);
  CHECK(r.connected == std::vector<StreamProtocol>{StreamProtocol::kSpdy});
  CHECK_FALSE(r.finished);
  CHECK(r.diag.str().empty());
  auto m = r.Remembered();
  REQUIRE(m);
  CHECK(m->good == StreamProtocol::kSpdy);
  CHECK(m->refused == StreamProtocol::kWebSocket);
  CHECK(m->at == 1000);
}

TEST_CASE("protocol attempts: a 401 re-authenticates once and retries the same protocol") {
  Rig r;
  r.reauth_result = Result<UpgradeHeaders>(UpgradeHeaders{{"Authorization", "Bearer new"}});
  r.script = {Refused(RefusalKind::kUnauthenticated, "error: You must be logged in",
                      ErrorCode::kUnauthenticated),
              std::nullopt};
  r.Make(kBoth);
  r.Run();
  REQUIRE(r.dialed.size() == 2);
  CHECK(r.dialed[0] == std::pair{StreamProtocol::kWebSocket, std::string("Bearer old")});
  CHECK(r.dialed[1] == std::pair{StreamProtocol::kWebSocket, std::string("Bearer new")});
  CHECK(r.reauth_calls == 1);
  CHECK(r.target.headers[0].second == "Bearer new");
  CHECK(r.connected == std::vector<StreamProtocol>{StreamProtocol::kWebSocket});
  auto m = r.Remembered();
  REQUIRE(m);
  CHECK(m->good == StreamProtocol::kWebSocket);
  CHECK_FALSE(m->refused);
}

TEST_CASE("protocol attempts: a second 401 after the re-login is reported, not retried") {
  Rig r;
  r.reauth_result = Result<UpgradeHeaders>(UpgradeHeaders{{"Authorization", "Bearer new"}});
  auto unauth = Refused(RefusalKind::kUnauthenticated, "error: You must be logged in",
                        ErrorCode::kUnauthenticated);
  unauth.diagnosis.explanation = {"log in again"};
  r.script = {unauth, unauth};
  r.Make(kBoth);
  r.Run();
  CHECK(r.dialed.size() == 2);
  CHECK(r.reauth_calls == 1);
  REQUIRE(r.finished);
  CHECK(r.finished->code == ErrorCode::kUnauthenticated);
  CHECK(r.diag.str() == "error: You must be logged in\nkproxy: log in again\n");
  CHECK_FALSE(r.Remembered());
}

TEST_CASE("protocol attempts: a failed re-authentication reports the refusal and its error") {
  Rig r;
  r.reauth_result = Result<UpgradeHeaders>(MakeError(ErrorCode::kLoginRequired, "login needed"));
  r.script = {Refused(RefusalKind::kUnauthenticated, "error: You must be logged in",
                      ErrorCode::kUnauthenticated)};
  r.Make(kBoth);
  r.Run();
  CHECK(r.dialed.size() == 1);
  REQUIRE(r.finished);
  CHECK(r.finished->code == ErrorCode::kLoginRequired);
  CHECK(r.diag.str() == "error: You must be logged in\nerror: login needed\n");
  CHECK_FALSE(r.Remembered());
}

TEST_CASE("protocol attempts: RBAC get-only denial on WebSocket falls back with the hint") {
  Rig r;
  r.script = {Refused(RefusalKind::kRbac, "Error from server (Forbidden): denied",
                      ErrorCode::kForbidden, "get"),
              std::nullopt};
  r.Make(kBoth);
  r.Run();
  CHECK(r.connected == std::vector<StreamProtocol>{StreamProtocol::kSpdy});
  CHECK(r.diag.str().rfind("note: RBAC allows \"create\" but not \"get\" on pods/exec", 0) == 0);
  auto m = r.Remembered();
  REQUIRE(m);
  CHECK(m->refused == StreamProtocol::kWebSocket);
}

TEST_CASE("protocol attempts: an RBAC denial of create is reported without a fallback") {
  Rig r;
  r.script = {Refused(RefusalKind::kRbac, "Error from server (Forbidden): denied",
                      ErrorCode::kForbidden, "create")};
  r.Make(kBoth);
  r.Run();
  CHECK(r.dialed.size() == 1);
  REQUIRE(r.finished);
  CHECK(r.finished->code == ErrorCode::kForbidden);
  CHECK(r.diag.str() == "Error from server (Forbidden): denied\n");
  CHECK_FALSE(r.Remembered());  // nothing worked and nothing was refused by protocol
}

TEST_CASE("protocol attempts: both refused; the classified first refusal leads the report") {
  Rig r;
  r.script = {Refused(RefusalKind::kUpgradeStripped, "error: upgrade stripped",
                      ErrorCode::kUpgradeRejected),
              Refused(RefusalKind::kOther, "error: spdy refused", ErrorCode::kServer)};
  r.Make(kBoth);
  r.Run();
  REQUIRE(r.finished);
  CHECK(r.finished->code == ErrorCode::kServer);
  CHECK(r.diag.str() ==
        "error: upgrade stripped\nkproxy: the spdy-name attempt failed too: error: spdy "
        "refused\n");
  CHECK(r.all_refused == 0);
}

TEST_CASE("protocol attempts: both refused with a last resort: it takes over, nothing reported") {
  Rig r;
  r.script = {Refused(RefusalKind::kUpgradeRefused, "", ErrorCode::kUpgradeRejected),
              Refused(RefusalKind::kUpgradeRefused, "", ErrorCode::kUpgradeRejected)};
  r.Make(kBoth, /*legacy=*/true);
  r.Run();
  CHECK(r.all_refused == 1);
  CHECK_FALSE(r.finished);
  CHECK(r.diag.str().empty());
  CHECK_FALSE(r.Remembered());
}

TEST_CASE("protocol attempts: a dial error is not retried, and no last resort is tried") {
  Rig r;
  AttemptFailure f;
  f.stage = FailureStage::kDial;
  f.error = MakeError(ErrorCode::kUnavailable, "connection refused");
  r.script = {f};
  r.Make(kBoth, /*legacy=*/true);
  r.Run();
  CHECK(r.dialed.size() == 1);
  REQUIRE(r.finished);
  CHECK(r.finished->code == ErrorCode::kUnavailable);
  CHECK(r.diag.str() == "error: connection refused\n");
  CHECK(r.all_refused == 0);
}

TEST_CASE("protocol attempts: an empty plan ends with upgrade-rejected") {
  Rig r;
  r.Make({});
  r.Run();
  REQUIRE(r.finished);
  CHECK(r.finished->code == ErrorCode::kUpgradeRejected);
  CHECK(r.dialed.empty());
}

TEST_CASE("protocol attempts: DialNext skips an unwanted transport; redial failures go back") {
  Rig r;
  AttemptFailure lost;
  lost.stage = FailureStage::kDial;
  lost.error = MakeError(ErrorCode::kUnavailable, "connection refused");
  r.script = {std::nullopt, std::nullopt, lost};
  r.accept_on_connect = false;
  r.Make(kBoth, /*legacy=*/false, /*redial=*/true);
  r.Run();
  REQUIRE(r.connected == std::vector<StreamProtocol>{StreamProtocol::kWebSocket});
  CHECK_FALSE(r.attempts->accepted());
  r.attempts->DialNext();
  r.Wait();
  REQUIRE(r.connected.size() == 2);
  CHECK(r.connected[1] == StreamProtocol::kSpdy);
  r.attempts->Accept(StreamProtocol::kSpdy);
  CHECK(r.attempts->accepted());
  r.attempts->Redial();
  r.Wait();
  REQUIRE(r.redial_failures.size() == 1);
  CHECK(r.redial_failures[0].error.message == "connection refused");
  CHECK(r.dialed.back().first == StreamProtocol::kSpdy);
  CHECK_FALSE(r.finished);
  CHECK(r.diag.str().empty());
  auto m = r.Remembered();
  REQUIRE(m);
  CHECK(m->good == StreamProtocol::kSpdy);
}

}  // namespace
}  // namespace kproxy
