#include "core/kubeconfig/kubeconfig_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/kubeconfig/kubeconfig_parse.h"

namespace kproxy::kubeconfig {
namespace {

constexpr std::uintmax_t kMaxFileSize = 16u << 20;  // kubeconfigs are KBs; refuse huge inputs

// Go's error text is lower-case ("no such file or directory"); kubectl users grep for it.
std::string ErrnoText(int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

std::string ResolvePath(const std::string& path, const std::string& base_dir) {
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

std::string DirName(const std::string& path) {
  return std::filesystem::path(path).parent_path().string();
}

Result<std::vector<Source>> KubeconfigSources(const std::optional<std::string>& explicit_path,
                                              const KubeconfigEnvironment& env) {
  std::vector<Source> out;
  if (explicit_path) {
    // client-go: an explicit file is the only one read, and it must exist.
    std::string abs = ResolvePath(*explicit_path, env.cwd);
    if (!Exists(abs)) {
      return MakeError(ErrorCode::kNotFound, "stat " + *explicit_path + ": " + ErrnoText(errno));
    }
    out.push_back({*explicit_path, abs});
    return out;
  }
  std::optional<std::string> list = env.getenv ? env.getenv("KUBECONFIG") : std::nullopt;
  if (list && !list->empty()) {
    std::set<std::string> seen;
    std::stringstream ss(*list);
    std::string entry;
    while (std::getline(ss, entry, ':')) {
      if (entry.empty()) continue;
      std::string abs = ResolvePath(entry, env.cwd);
      if (!seen.insert(abs).second) continue;
      if (!Exists(abs)) continue;  // missing entries are skipped, as client-go does
      out.push_back({entry, abs});
    }
    return out;
  }
  if (!env.home_dir.empty()) {
    std::string home = (std::filesystem::path(env.home_dir) / ".kube" / "config").string();
    if (Exists(home)) out.push_back({home, home});
  }
  return out;
}

Result<std::string> ReadSmallFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return MakeError(ErrorCode::kConfig, "read " + path + ": is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kConfig, "open " + path + ": " + ErrnoText(errno));
  std::string data;
  char buf[8192];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > kMaxFileSize)
      return MakeError(ErrorCode::kConfig, "read " + path + ": file larger than 16 MiB");
  }
  return data;
}

void MergeConfig(Config& into, Config later) {
  // std::map::insert keeps the existing entry: the first file that defines a name wins whole.
  for (auto& kv : later.clusters) into.clusters.insert(std::move(kv));
  for (auto& kv : later.users) into.users.insert(std::move(kv));
  for (auto& kv : later.contexts) into.contexts.insert(std::move(kv));
  if (into.current_context.empty()) into.current_context = later.current_context;
  if (into.preferences.empty()) into.preferences = std::move(later.preferences);
  for (auto& ext : later.extensions) {
    bool have = false;
    for (const auto& e : into.extensions) have |= e.name == ext.name;
    if (!have) into.extensions.push_back(std::move(ext));
  }
}

Result<Config> LoadMergedConfig(const std::vector<Source>& sources) {
  Config merged;
  for (const auto& src : sources) {
    auto text = ReadSmallFile(src.path);
    if (!text.ok()) {
      return MakeError(ErrorCode::kConfig,
                       "error loading config file \"" + src.label + "\": " + text.error().message);
    }
    auto cfg = ParseKubeconfig(*text, src.label, src.path);
    if (!cfg.ok()) return cfg.error();
    MergeConfig(merged, std::move(*cfg));
  }
  return merged;
}

Result<LoadedKubeconfig> LoadKubeconfig(const std::optional<std::string>& explicit_path,
                                        const KubeconfigEnvironment& env) {
  auto sources = KubeconfigSources(explicit_path, env);
  if (!sources.ok()) return sources.error();
  auto merged = LoadMergedConfig(*sources);
  if (!merged.ok()) return merged.error();
  return LoadedKubeconfig{std::move(*sources), std::move(*merged)};
}

}  // namespace kproxy::kubeconfig
