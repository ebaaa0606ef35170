#include "core/kubeconfig/kubeconfig_write.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>

#include "core/kubeconfig/kubeconfig_parse.h"
#include "core/kubeconfig/yaml_emit.h"

namespace kproxy::kubeconfig {
namespace {

bool IsTopLevelKeyLine(std::string_view line) {
  for (std::string_view key : {"current-context:", "\"current-context\":", "'current-context':"})
    if (line.substr(0, key.size()) == key) return true;
  return false;
}

Result<std::string> SetInYaml(std::string_view text, const std::string& name) {
  const std::string new_line = "current-context: " + YamlScalar(name);
  std::string out;
  bool replaced = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string_view line = text.substr(pos, end == std::string_view::npos ? text.npos : end - pos);
    pos = end == std::string_view::npos ? text.size() : end + 1;
    if (!replaced && IsTopLevelKeyLine(line)) {
      replaced = true;
      out += new_line;
      if (end != std::string_view::npos) out += '\n';
      // A value continued on indented lines below the key belongs to the old entry.
      while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) {
        size_t next = text.find('\n', pos);
        pos = next == std::string_view::npos ? text.size() : next + 1;
      }
      continue;
    }
    out.append(line);
    if (end != std::string_view::npos) out += '\n';
  }
  if (!replaced) {
    if (!out.empty() && out.back() != '\n') out += '\n';
    out += new_line + "\n";
  }
  return out;
}

}  // namespace

Result<std::string> SetCurrentContextText(std::string_view text, const std::string& name) {
  size_t first = text.find_first_not_of(" \t\r\n");
  Result<std::string> out = std::string();
  if (first != std::string_view::npos && text[first] == '{') {
    // A JSON (or flow-style YAML) document: edit the parsed tree; formatting is regenerated.
    auto j = Json::parse(text, nullptr, false);
    if (!j.is_discarded() && j.is_object()) {
      j["current-context"] = name;
      out = j.dump(4) + "\n";
    } else {
      try {
        YAML::Node root = YAML::Load(std::string(text));
        root["current-context"] = name;
        YAML::Emitter emitter;
        emitter << root;
        out = std::string(emitter.c_str()) + "\n";
      } catch (const std::exception& e) {
        return MakeError(ErrorCode::kConfig, std::string("cannot edit the file: ") + e.what());
      }
    }
  } else {
    out = SetInYaml(text, name);
  }
  // Never write a file we would not read back with the new value.
  auto check = ParseKubeconfig(*out, "edited", "");
  if (!check.ok()) return check.error();
  if (check->current_context != name)
    return MakeError(ErrorCode::kConfig, "cannot edit current-context in this file's layout");
  return out;
}

Result<Source> CurrentContextOwner(const std::vector<Source>& sources) {
  if (sources.empty()) return MakeError(ErrorCode::kNotFound, "no kubeconfig file to write to");
  for (const auto& src : sources) {
    auto cfg = LoadMergedConfig({src});
    if (!cfg.ok()) return cfg.error();
    if (!cfg->current_context.empty()) return src;
  }
  return sources.front();
}

Status WriteFileAtomic(const std::string& path, std::string_view data) {
  char real[PATH_MAX];
  std::string target = ::realpath(path.c_str(), real) ? std::string(real) : path;
  struct stat st;
  mode_t mode = 0600;
  if (::stat(target.c_str(), &st) == 0) mode = st.st_mode & 07777;
  std::string tmpl = target + ".kproxy-XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0)
    return MakeError(ErrorCode::kConfig, "cannot write " + target + ": " + std::strerror(errno));
  auto fail = [&](const char* what) {
    int err = errno;
    ::close(fd);
    ::unlink(tmpl.c_str());
    return Status(MakeError(ErrorCode::kConfig, std::string("cannot write ") + target + ": " +
                                                    what + ": " + std::strerror(err)));
  };
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write");
    }
    off += static_cast<size_t>(n);
  }
  if (::fchmod(fd, mode) != 0) return fail("chmod");
  if (::fsync(fd) != 0) return fail("fsync");
  if (::close(fd) != 0) {
    ::unlink(tmpl.c_str());
    return MakeError(ErrorCode::kConfig, "cannot write " + target + ": " + std::strerror(errno));
  }
  if (::rename(tmpl.c_str(), target.c_str()) != 0) {
    int err = errno;
    ::unlink(tmpl.c_str());
    return MakeError(ErrorCode::kConfig, "cannot write " + target + ": " + std::strerror(err));
  }
  return Status::Ok();
}

}  // namespace kproxy::kubeconfig
