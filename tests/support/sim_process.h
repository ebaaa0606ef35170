// Starts the simulator (`kproxy-sim up --dir <tmp>`) as a child process for e2e tests, waits
// for its ready file, and stops it (SIGTERM, then SIGKILL after a bound) when destroyed.
// Also small HTTPS clients for talking to it: libcurl for requests, raw TLS for garbage.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/test_env.h"

namespace kproxy::test {

struct SimOptions {
  bool proxy = true;
  std::vector<std::string> faults;  // "--fault" values
  std::string fixture;              // empty: the default fixture
  // Text replacements (from, to) applied to every occurrence in the fixture before the start,
  // e.g. {"8080: 18080", "8080: <a test server's port>"}; the edited copy lives in dir().
  std::vector<std::pair<std::string, std::string>> fixture_edits;
  int ready_timeout_ms = 20000;
};

class SimProcess {
 public:
  // Starts the simulator; returns null (and `error`) when it did not become ready in time.
  static std::unique_ptr<SimProcess> Start(const SimOptions& options, std::string* error);
  ~SimProcess();
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  pid_t pid() const;
  bool Alive() const;
  // Sends SIGTERM and waits (bounded); true when it exited with status 0.
  bool Stop();

  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path kubeconfig() const { return dir() / "kubeconfig"; }
  const nlohmann::json& info() const { return info_; }  // sim.json
  std::string api_url() const { return info_.value("apiServer", ""); }
  int api_port() const { return info_.value("apiPort", 0); }
  // The URL of an access-proxy route ("default", "no-websocket"), or "".
  std::string proxy_url(const std::string& route = "default") const;
  std::string ca_pem() const;
  std::string log() const;  // the simulator's stdout+stderr so far

 private:
  SimProcess() = default;
  TempDir dir_;
  std::unique_ptr<ChildProcess> child_;
  nlohmann::json info_;
};

// The kproxy-sim binary (KPROXY_SIM_BIN, else <build>/kproxy-sim).
std::filesystem::path SimBinary();

struct HttpReply {
  long status = 0;                                           // 0: the request failed (see error)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string error;
  std::string Header(const std::string& name) const;
};

// One HTTPS request over HTTP/1.1 trusting `ca_pem`; no redirects followed; bounded by
// `timeout_ms` (a timed-out reply keeps the status and body received so far).
HttpReply HttpsRequest(const std::string& ca_pem, const std::string& method, const std::string& url,
                       const std::vector<std::string>& headers = {}, const std::string& body = "",
                       long timeout_ms = 10000);

// Runs argv with `env` additions ("NAME=value"), bounded by `timeout_ms` (then SIGKILL).
// Returns the exit status (-1 when killed) with stdout and stderr.
struct CommandResult {
  int status = -1;
  std::string out;
  std::string err;
};
CommandResult RunCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         int timeout_ms);

// Raw TLS to 127.0.0.1:port offering ALPN `alpn` (comma list, "" for none): writes `bytes`
// (in pieces of `chunk` bytes when > 0), then reads until close or `timeout_ms`. Returns what
// the server sent; `selected_alpn` and `handshake_ok` report the TLS outcome.
struct RawReply {
  bool handshake_ok = false;
  std::string selected_alpn;
  std::string received;
};
RawReply RawTls(int port, const std::string& ca_pem, const std::string& alpn,
                const std::string& bytes, size_t chunk = 0, int timeout_ms = 3000);

}  // namespace kproxy::test
