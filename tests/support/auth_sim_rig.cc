#include "tests/support/auth_sim_rig.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <regex>

#include "tests/support/kubectl_versions.h"

namespace kproxy::test {

namespace fs = std::filesystem;
using nlohmann::json;

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int FileMode(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

fs::path KubectlPath(int minor) {
  KubectlVersions v = FindKubectlVersions(minor, minor);
  const KubectlBinary* b = v.Find(minor);
  return b ? b->path : fs::path();
}

int ForwardedLocalPort(const std::string& output, int remote) {
  std::smatch m;
  std::regex re("Forwarding from 127\\.0\\.0\\.1:(\\d+) -> " + std::to_string(remote));
  return std::regex_search(output, m, re) ? std::stoi(m[1]) : 0;
}

std::unique_ptr<AuthSimRig> AuthSimRig::Start(std::string* error, const std::string& exec_api,
                                              SimOptions options) {
  std::unique_ptr<AuthSimRig> r(new AuthSimRig());
  options.proxy = true;
  r->sim_ = SimProcess::Start(options, error);
  if (!r->sim_) return nullptr;
  r->route_ = r->sim_->proxy_url();
  r->ca_ = r->sim_->ca_pem();
  if (r->route_.empty()) {
    *error = "the simulator has no access-proxy route";
    return nullptr;
  }
  std::string kubeconfig = ReadFileOrEmpty(r->sim_->kubeconfig());
  const std::string v1 = "apiVersion: client.authentication.k8s.io/v1\n";
  size_t at = kubeconfig.find(v1);
  if (at == std::string::npos) {
    *error = "no ExecCredential v1 stanza in the simulator's kubeconfig";
    return nullptr;
  }
  kubeconfig.replace(at, v1.size(), "apiVersion: client.authentication.k8s.io/" + exec_api + "\n");
  std::ofstream(r->work() / "kubeconfig") << kubeconfig;
  return r;
}

std::string AuthSimRig::Line(const std::string& name, bool tty,
                             const std::vector<std::string>& vars,
                             const std::vector<std::string>& argv) const {
  std::string line = ShellQuote((SourceDir() / "tests/scripts/auth_run.sh").string()) + " " +
                     ShellQuote(work().string()) + " " + ShellQuote(name) +
                     (tty ? " tty" : " notty");
  for (const auto& v : vars) line += " " + ShellQuote(v);
  line += " --";
  for (const auto& a : argv) line += " " + ShellQuote(a);
  return line;
}

void AuthSimRig::RunAll(const std::vector<std::string>& lines) const {
  std::string script;
  for (const auto& l : lines) script += l + " &\n";
  script += "wait\n";
  fs::path sh = work() / "run.sh";
  std::ofstream(sh) << script;
  // auth_run.sh kills its command after 120 s; this bounds the runner itself.
  int rc = std::system(("timeout 180 bash " + ShellQuote(sh.string())).c_str());
  if (rc == 0) return;
  // Which line hung is unknown: mark them all (a check on their Rc() then shows it).
  static const std::regex name_re("^'[^']*' '[^']*' '([^']*)'");
  for (const auto& l : lines) {
    std::smatch m;
    if (std::regex_search(l, m, name_re))
      std::ofstream(work() / (m[1].str() + ".rc"), std::ios::app) << "runner exit " << rc << "\n";
  }
}

void AuthSimRig::Run(const std::string& name, bool tty, const std::vector<std::string>& vars,
                     const std::vector<std::string>& argv) const {
  RunAll({Line(name, tty, vars, argv)});
}

std::string AuthSimRig::Out(const std::string& n) const {
  return ReadFileOrEmpty(work() / (n + ".out"));
}
std::string AuthSimRig::Err(const std::string& n) const {
  return ReadFileOrEmpty(work() / (n + ".err"));
}
std::string AuthSimRig::Rc(const std::string& n) const {
  return ReadFileOrEmpty(work() / (n + ".rc"));
}

std::string AuthSimRig::Browser() const {
  return "BROWSER=" + (SourceDir() / "tests/scripts/sim-browser.sh").string();
}

std::string AuthSimRig::RecordingBrowser() const {
  fs::path browser = work() / "recording-browser.sh";
  std::ofstream(browser) << "#!/bin/sh\necho \"$1\" >>" << ShellQuote(Opened().string()) << "\n";
  fs::permissions(browser, fs::perms::owner_all);
  return "BROWSER=" + browser.string();
}

std::vector<std::string> AuthSimRig::Env(const std::string& browser) const {
  return {"HOME=" + (work() / "home").string(),
          "XDG_CACHE_HOME=" + (work() / "cache").string(),
          "KUBECONFIG=" + (work() / "kubeconfig").string(),
          browser,
          "CI=",
          "KPROXY_SERVICE_ACCOUNT_FILE="};
}

json AuthSimRig::Stats() const {
  auto r = HttpsRequest(ca_, "GET", route_ + "/.sim/stats");
  if (r.status != 200) return json();
  return json::parse(r.body, nullptr, false);
}

bool AuthSimRig::Revoke(const std::string& body) const {
  return HttpsRequest(ca_, "POST", route_ + "/.sim/revoke", {}, body).status == 200;
}

std::string AuthSimRig::WhoIs(const std::string& jwt) const {
  auto r = HttpsRequest(ca_, "GET", route_ + "/.pomerium/user",
                        {"Accept: application/json", "Authorization: Bearer Pomerium-" + jwt});
  if (r.status != 200) return "";
  json j = json::parse(r.body, nullptr, false);
  return j.is_object() ? j.value("user", "") : "";
}

std::string AuthSimRig::CachedJwt() const {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(CacheDir(), ec)) {
    if (e.path().extension() != ".json") continue;
    auto j = json::parse(ReadFileOrEmpty(e.path()), nullptr, false);
    // Other kproxy state lives here too (protocols.json: the exec protocol memory).
    if (j.is_object() && !j.value("token", "").empty()) return j.value("token", "");
  }
  return "";
}

bool AuthSimRig::AgeProbe(long long seconds) const {
  std::error_code ec;
  bool aged = false;
  for (const auto& e : fs::directory_iterator(CacheDir(), ec)) {
    if (e.path().extension() != ".json") continue;
    auto j = json::parse(ReadFileOrEmpty(e.path()), nullptr, false);
    if (!j.is_object() || !j.contains("token") || !j.contains("last_good_probe")) continue;
    j["last_good_probe"] = j["last_good_probe"].get<long long>() - seconds;
    std::ofstream(e.path()) << j.dump();
    aged = true;
  }
  return aged;
}

}  // namespace kproxy::test
