#include "core/negotiate/protocol_memory.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace kproxy {
namespace {

nlohmann::json ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return nlohmann::json::object();
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

std::optional<StreamProtocol> ParseProtocol(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  if (*it == "websocket") return StreamProtocol::kWebSocket;
  if (*it == "spdy") return StreamProtocol::kSpdy;
  return std::nullopt;
}

}  // namespace

ProtocolMemory::ProtocolMemory(std::string path, int64_t ttl_seconds)
    : path_(std::move(path)), ttl_(ttl_seconds) {}

std::string ProtocolMemory::DefaultPath() {
  std::string base;
  if (const char* x = getenv("XDG_CACHE_HOME"); x && *x) {
    base = x;
  } else if (const char* h = getenv("HOME"); h && *h) {
    base = std::string(h) + "/.cache";
  } else {
    base = "/tmp";
  }
  return base + "/kproxy/protocols.json";
}

std::optional<RememberedOutcome> ProtocolMemory::Lookup(const std::string& server,
                                                        const std::string& kind,
                                                        int64_t now) const {
  seen_.reset();  // a missing or corrupt entry must not leave an older one behind
  nlohmann::json root = ReadFile(path_);
  auto entries = root.find("entries");
  if (entries == root.end() || !entries->is_object()) return std::nullopt;
  const std::string key = server + "|" + kind;
  auto e = entries->find(key);
  if (e == entries->end() || !e->is_object()) return std::nullopt;
  RememberedOutcome out;
  auto at = e->find("at");
  if (at == e->end() || !at->is_number_integer()) return std::nullopt;
  out.at = at->get<int64_t>();
  out.good = ParseProtocol(*e, "good");
  out.refused = ParseProtocol(*e, "refused");
  seen_ = Seen{key, out};
  if (now - out.at > ttl_ || out.at > now + 60) return std::nullopt;
  if (!out.good && !out.refused) return std::nullopt;
  return out;
}

bool ProtocolMemory::Record(const std::string& server, const std::string& kind,
                            const RememberedOutcome& o) {
  const std::string key = server + "|" + kind;
  // Rewriting an unchanged entry costs a temp file, a write and a rename on every session
  // (~0.3 ms): refresh it only once it is older than half the TTL, so it never expires while
  // the outcome stays the same.
  auto unchanged = [&](const RememberedOutcome& old) {
    int64_t age = o.at - old.at;
    return old.good == o.good && old.refused == o.refused && age >= 0 && age < ttl_ / 2;
  };
  // What Lookup() just read says so already (a session looks up, then records): no re-read.
  if (seen_ && seen_->key == key && unchanged(seen_->entry)) return true;
  nlohmann::json root = ReadFile(path_);
  if (!root.contains("entries") || !root["entries"].is_object())
    root["entries"] = nlohmann::json::object();
  if (auto old = root["entries"].find(key); old != root["entries"].end() && old->is_object()) {
    auto at = old->find("at");
    if (at != old->end() && at->is_number_integer() &&
        unchanged(
            {ParseProtocol(*old, "good"), ParseProtocol(*old, "refused"), at->get<int64_t>()}))
      return true;
  }
  nlohmann::json e = {{"at", o.at}};
  if (o.good) e["good"] = StreamProtocolName(*o.good);
  if (o.refused) e["refused"] = StreamProtocolName(*o.refused);
  root["entries"][key] = e;
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::path(path_).parent_path();
  std::filesystem::create_directories(dir, ec);
  ::chmod(dir.c_str(), 0700);
  std::string tmp = path_ + ".tmp." + std::to_string(::getpid());
  {
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    std::string data = root.dump(1) + "\n";
    bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
    ::close(fd);
    if (!ok) {
      ::unlink(tmp.c_str());
      return false;
    }
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  seen_ = Seen{key, o};
  return true;
}

bool PlanIsForced(const ProtocolPlan& plan) { return plan.order.size() == 1; }

ProtocolPlan PlanFromMemory(const ProtocolMemory& memory, const std::string& server,
                            const std::string& kind, const std::string& flag, const char* env_value,
                            int64_t now) {
  auto remembered = memory.Lookup(server, kind, now);
  std::optional<StreamProtocol> good, refused;
  if (remembered) {
    good = remembered->good;
    refused = remembered->refused;
  }
  return PlanProtocols(flag, env_value ? env_value : "", good ? &*good : nullptr,
                       refused ? &*refused : nullptr);
}

}  // namespace kproxy
