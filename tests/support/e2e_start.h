// Starting the simulator set-ups from a doctest case: each helper REQUIREs that the set-up came
// up, with the reason (the simulator's log) as the message. Header-only: it is for the test
// binary, the support library itself does not link doctest.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/auth_sim_rig.h"
#include "tests/support/pty_runner.h"
#include "tests/support/sim_process.h"

namespace kproxy::test {

// Starts `c` (kproxy-sim with `options`, its own HOME) or fails the test case.
inline void RequireStartedWith(SimCluster& c, SimOptions options) {
  std::string error;
  bool ok = c.Start(std::move(options), &error);
  REQUIRE_MESSAGE(ok, "simulator: " << error);
}
inline void RequireStarted(SimCluster& c, std::vector<std::string> faults = {},
                           bool proxy = false) {
  SimOptions o;
  o.faults = std::move(faults);
  o.proxy = proxy;
  RequireStartedWith(c, std::move(o));
}

// The identity rig (AuthSimRig::Start) or a failed test case.
inline std::unique_ptr<AuthSimRig> RequireAuthSimRig(const std::string& exec_api = "v1",
                                                     SimOptions options = {}) {
  std::string error;
  auto rig = AuthSimRig::Start(&error, exec_api, std::move(options));
  REQUIRE_MESSAGE(rig, "simulator: " << error);
  return rig;
}

}  // namespace kproxy::test
