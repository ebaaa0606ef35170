// The identity e2e set-up shared by the kproxy and kubectl suites (tests/e2e/auth_sim_*): the
// simulator with its access-proxy emulator, a work directory holding its kubeconfig (context
// "sso": `kproxy credential --server <route>`) and the token cache, commands run through
// tests/scripts/auth_run.sh with a clean environment (recorded as WORK/<name>.{out,err,rc}),
// and the emulator's test endpoints (stats, revocation, who a session belongs to).
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/sim_process.h"
#include "tests/support/test_env.h"

namespace kproxy::test {

// `s` quoted for sh (single quotes).
std::string ShellQuote(const std::string& s);
// The permission bits of a path (0600), -1 when it does not exist.
int FileMode(const std::filesystem::path& p);
// kubectl.1.<minor> as installed beside kubectl (FindKubectlVersions), "" when missing.
std::filesystem::path KubectlPath(int minor);
// The local port of kubectl's first "Forwarding from 127.0.0.1:P -> <remote>" line in
// `output`, 0 when there is none.
int ForwardedLocalPort(const std::string& output, int remote);

class AuthSimRig {
 public:
  // Starts the simulator (with its proxy) and writes WORK/kubeconfig with the credential
  // plugin's ExecCredential apiVersion set to `exec_api` ("v1", or "v1beta1" as kubectl 1.28
  // users often still have). Null, with `error`, when that failed.
  static std::unique_ptr<AuthSimRig> Start(std::string* error, const std::string& exec_api = "v1",
                                           SimOptions options = {});

  const std::filesystem::path& work() const { return work_.path(); }
  const std::string& route() const { return route_; }  // the default route's URL
  const SimProcess& sim() const { return *sim_; }

  // The auth_run.sh command line for one recorded run: `tty` runs it under a pty; `vars` are
  // VAR=value additions to the clean environment.
  std::string Line(const std::string& name, bool tty, const std::vector<std::string>& vars,
                   const std::vector<std::string>& argv) const;
  // Runs the lines in parallel, bounded. When the runner itself failed, every line's .rc file
  // says so ("runner exit N"), so checks on Rc() fail with the reason.
  void RunAll(const std::vector<std::string>& lines) const;
  void Run(const std::string& name, bool tty, const std::vector<std::string>& vars,
           const std::vector<std::string>& argv) const;
  std::string Out(const std::string& name) const;
  std::string Err(const std::string& name) const;
  std::string Rc(const std::string& name) const;  // "0\n" for success

  // BROWSER= the scripted sign-in as the fixture user alice (tests/scripts/sim-browser.sh).
  std::string Browser() const;
  // BROWSER= a browser that only records the URLs it was asked to open, in Opened().
  std::string RecordingBrowser() const;
  std::filesystem::path Opened() const { return work() / "opened"; }
  // The environment auth_run.sh gives its commands, for children the test runs itself (a pty):
  // HOME, XDG_CACHE_HOME, KUBECONFIG of the work directory, `browser`, and no CI or service
  // account leaking in from the test runner.
  std::vector<std::string> Env(const std::string& browser) const;

  // The emulator's counters (/.sim/stats); null when the request failed.
  nlohmann::json Stats() const;
  // Revokes sessions (`body`: {"user":"alice"}, or {} for all); false when refused.
  bool Revoke(const std::string& body = "{}") const;
  // Who the proxy says a session JWT belongs to ("" when it refuses it).
  std::string WhoIs(const std::string& jwt) const;

  std::filesystem::path CacheDir() const { return work() / "cache" / "kproxy"; }
  // The cached session JWT ("" when none).
  std::string CachedJwt() const;
  // Moves the cache entry's last good probe `seconds` into the past; false without one.
  bool AgeProbe(long long seconds) const;

 private:
  AuthSimRig() = default;
  std::unique_ptr<SimProcess> sim_;
  TempDir work_;
  std::string route_;
  std::string ca_;
};

}  // namespace kproxy::test
