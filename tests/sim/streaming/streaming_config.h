// Settings the streaming layer takes from the simulator: where container commands run and
// with what environment, and the kubelet's stream-creation timeout.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace kproxy::sim::streaming {

struct StreamingConfig {
  std::string work_dir;                    // container commands' working directory ("" inherit)
  std::map<std::string, std::string> env;  // added to every container command's environment
  std::chrono::milliseconds stream_timeout{30000};  // kubelet: streamCreationTimeout
  std::chrono::milliseconds dial_timeout{5000};     // port-forward connect to the local port
};

}  // namespace kproxy::sim::streaming
