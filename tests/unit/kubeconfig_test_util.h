// Test helpers for the kubeconfig tests: a fake environment and file writing in a TempDir.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "core/kubeconfig/loader.h"
#include "tests/support/test_env.h"

namespace kproxy::test {

// A KubeconfigEnvironment whose variables come from a map and whose home/cwd are in `dir`.
struct FakeKubeEnv {
  std::map<std::string, std::string> vars;
  KubeconfigEnvironment env;

  explicit FakeKubeEnv(const std::filesystem::path& dir) {
    env.home_dir = (dir / "home").string();
    env.cwd = (dir / "cwd").string();
    env.in_cluster_dir = (dir / "sa").string();
    std::filesystem::create_directories(env.cwd);
    std::filesystem::create_directories(env.home_dir);
    env.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }
  FakeKubeEnv(const FakeKubeEnv&) = delete;
  FakeKubeEnv& operator=(const FakeKubeEnv&) = delete;
};

inline std::string WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

}  // namespace kproxy::test
