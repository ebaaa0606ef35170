// kproxy-sim: the cluster simulator and access-proxy emulator (see tests/sim/sim_app.h).
#include <string>
#include <vector>

#include "tests/sim/sim_app.h"

int main(int argc, char** argv) {
  return kproxy::sim::RunSim(std::vector<std::string>(argv + 1, argv + argc));
}
