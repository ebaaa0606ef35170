// The kproxy-sim subcommands: `up` starts the API server (and the access proxy) on free
// loopback ports, writes a kubeconfig, a ports file and a ready marker, and runs until
// SIGINT/SIGTERM; `down` stops a running instance by its directory.
#pragma once

#include <string>
#include <vector>

namespace kproxy::sim {

// Runs the command line (argv without the program name); returns the process exit status.
int RunSim(const std::vector<std::string>& args);

}  // namespace kproxy::sim
