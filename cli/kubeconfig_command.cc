// `kproxy kubeconfig set-credentials NAME --server URL`: writes the users[].user.exec stanza
// that makes kubectl run `kproxy credential` (auth.md §3). The file is rewritten through a
// temp file + rename, 0600 when created.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>

#include "auth/exec_credential.h"
#include "auth/route_url.h"
#include "cli/commands.h"
#include "core/base/exit_code.h"

namespace kproxy::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kInstallHint =
    "kproxy is needed to sign in to this cluster through its access proxy.\n"
    "Install it from your package manager (apt install kproxy) or see "
    "https://github.com/kproxy/kproxy#install";

struct SetCredentialsOptions {
  std::string name;
  std::string api_version = "v1";
  std::string browser_cmd;
  std::string service_account_file;
};

fs::path TargetFile(const GlobalOptions& g) {
  if (g.overrides.kubeconfig && !g.overrides.kubeconfig->empty()) return *g.overrides.kubeconfig;
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    std::string list = env;
    size_t start = 0;
    while (start <= list.size()) {
      size_t colon = list.find(':', start);
      std::string p = list.substr(start, colon == std::string::npos ? colon : colon - start);
      if (!p.empty()) return p;  // client-go writes new entries to the first file
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr ? home : ".") / ".kube" / "config";
}

Status WriteAtomic(const fs::path& path, const std::string& text) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  struct stat st {};
  mode_t mode = ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0600;
  std::string tmp = path.string() + ".kproxy-tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return MakeError(ErrorCode::kConfig, "cannot write " + tmp);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fchmod(fd, mode) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return MakeError(ErrorCode::kConfig, "cannot write " + path.string());
  }
  return Status::Ok();
}

int RunSetCredentials(const SetCredentialsOptions& o, const GlobalOptions& g, CommandIO& io) {
  auto fail = [&](ErrorCode code, const std::string& msg) {
    io.err << "error: " << msg << "\n";
    return ExitStatusFor(code);
  };
  if (!g.overrides.server || g.overrides.server->empty()) {
    return fail(ErrorCode::kUsage, "kproxy kubeconfig set-credentials needs --server <route URL>");
  }
  auto route = auth::NormalizeRouteUrl(*g.overrides.server);
  if (!route) return fail(route.error().code, route.error().message);
  std::string api = o.api_version == "v1beta1" ? std::string(auth::kExecApiV1beta1)
                                               : std::string(auth::kExecApiV1);
  fs::path file = TargetFile(g);
  YAML::Node root;
  std::error_code ec;
  if (fs::exists(file, ec)) {
    try {
      root = YAML::LoadFile(file.string());
    } catch (const YAML::Exception& e) {
      return fail(ErrorCode::kConfig, "cannot parse " + file.string() + ": " + e.what());
    }
  }
  if (!root.IsMap()) root = YAML::Node(YAML::NodeType::Map);
  if (!root["apiVersion"]) root["apiVersion"] = "v1";
  if (!root["kind"]) root["kind"] = "Config";
  YAML::Node exec;
  exec["apiVersion"] = api;
  exec["command"] = "kproxy";
  YAML::Node args(YAML::NodeType::Sequence);
  args.push_back("credential");
  args.push_back("--server");
  args.push_back(*route);
  if (!o.browser_cmd.empty()) {
    args.push_back("--browser-cmd");
    args.push_back(o.browser_cmd);
  }
  if (!o.service_account_file.empty()) {
    args.push_back("--service-account-file");
    args.push_back(o.service_account_file);
  }
  exec["args"] = args;
  exec["interactiveMode"] = "IfAvailable";
  exec["provideClusterInfo"] = true;
  exec["installHint"] = kInstallHint;
  YAML::Node user;
  user["name"] = o.name;
  user["user"]["exec"] = exec;

  YAML::Node users = root["users"];
  YAML::Node new_users(YAML::NodeType::Sequence);
  bool replaced = false;
  if (users && users.IsSequence()) {
    for (const auto& u : users) {
      if (u["name"] && u["name"].as<std::string>("") == o.name) {
        new_users.push_back(user);
        replaced = true;
      } else {
        new_users.push_back(u);
      }
    }
  }
  if (!replaced) new_users.push_back(user);
  root["users"] = new_users;
  YAML::Emitter out;
  out << root;
  if (Status s = WriteAtomic(file, std::string(out.c_str()) + "\n"); !s) {
    return fail(s.error().code, s.error().message);
  }
  io.out << "User \"" << o.name << "\" set.\n";
  return exit_status::kOk;
}

}  // namespace

CommandSpec KubeconfigSetCredentialsCommand() {
  return CommandSpec{
      "kubeconfig set-credentials",
      "Write a kubeconfig user that runs 'kproxy credential' for an access-proxy route",
      "  # Add user 'corp' to ~/.kube/config\n"
      "  kproxy kubeconfig set-credentials corp --server https://k8s.example.com\n",
      [](CLI::App& app) -> RunFn {
        auto o = std::make_shared<SetCredentialsOptions>();
        app.add_option("name", o->name, "Name of the kubeconfig user")->required();
        app.add_option("--exec-api-version", o->api_version,
                       "ExecCredential apiVersion: v1 (default) or v1beta1")
            ->check(CLI::IsMember({"v1", "v1beta1"}));
        app.add_option("--browser-cmd", o->browser_cmd, "Passed on to kproxy credential");
        app.add_option("--service-account-file", o->service_account_file,
                       "Passed on to kproxy credential (CI)");
        return [o](const GlobalOptions& g, CommandIO& io) { return RunSetCredentials(*o, g, io); };
      }};
}

}  // namespace kproxy::cli
