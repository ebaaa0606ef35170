#include "core/rest/pod_table.h"

#include <nlohmann/json.hpp>

#include "core/rest/human_duration.h"

namespace kproxy {
namespace {

using nlohmann::json;

const json& Null() {
  static const json null;
  return null;
}

// j[k] when j is an object holding k, else null: every read tolerates wrong types.
const json& Get(const json& j, const char* k) {
  if (!j.is_object()) return Null();
  auto it = j.find(k);
  return it == j.end() ? Null() : *it;
}

std::string Str(const json& j) { return j.is_string() ? j.get<std::string>() : ""; }
long long Int(const json& j) { return j.is_number_integer() ? j.get<long long>() : 0; }
bool True(const json& j) { return j.is_boolean() && j.get<bool>(); }
const json& Arr(const json& j) {
  static const json empty = json::array();
  return j.is_array() ? j : empty;
}

bool ConditionTrue(const json& pod, const char* type) {
  for (const auto& c : Arr(Get(Get(pod, "status"), "conditions"))) {
    if (Str(Get(c, "type")) == type && Str(Get(c, "status")) == "True") return true;
  }
  return false;
}

bool IsRestartableInit(const json& spec_container) {
  return Str(Get(spec_container, "restartPolicy")) == "Always";
}

// Later of two RFC 3339 stamps (empty = zero time).
void KeepLatest(std::string& latest, const std::string& candidate) {
  auto c = ParseRfc3339(candidate);
  if (!c) return;
  auto l = ParseRfc3339(latest);
  if (!l || *l < *c) latest = candidate;
}

struct Restarts {
  long long count = 0;
  std::string last;  // finishedAt of the latest termination
};

}  // namespace

std::vector<std::string> PodRow(const json& pod, const PodTableOptions& options,
                                std::chrono::system_clock::time_point now) {
  const json& meta = Get(pod, "metadata");
  const json& spec = Get(pod, "spec");
  const json& status = Get(pod, "status");
  const json& init_specs = Arr(Get(spec, "initContainers"));

  long long total = static_cast<long long>(Arr(Get(spec, "containers")).size());
  long long ready = 0;
  std::string phase = Str(Get(status, "phase"));
  std::string reason = phase;
  if (!Str(Get(status, "reason")).empty()) reason = Str(Get(status, "reason"));
  for (const auto& c : Arr(Get(status, "conditions"))) {
    if (Str(Get(c, "type")) == "PodScheduled" && Str(Get(c, "reason")) == "SchedulingGated") {
      reason = "SchedulingGated";
    }
  }
  auto init_spec = [&init_specs](const std::string& name) -> const json& {
    for (const auto& s : init_specs) {
      if (Str(Get(s, "name")) == name) return s;
    }
    return Null();
  };
  for (const auto& s : init_specs) total += IsRestartableInit(s) ? 1 : 0;

  Restarts all, sidecars;
  bool initializing = false;
  const json& init_statuses = Arr(Get(status, "initContainerStatuses"));
  for (size_t i = 0; i < init_statuses.size(); ++i) {
    const json& c = init_statuses[i];
    const json& state = Get(c, "state");
    const json& terminated = Get(state, "terminated");
    const json& waiting = Get(state, "waiting");
    const json& last_term = Get(Get(c, "lastState"), "terminated");
    all.count += Int(Get(c, "restartCount"));
    if (last_term.is_object()) KeepLatest(all.last, Str(Get(last_term, "finishedAt")));
    bool restartable = IsRestartableInit(init_spec(Str(Get(c, "name"))));
    if (restartable) {
      sidecars.count += Int(Get(c, "restartCount"));
      if (last_term.is_object()) KeepLatest(sidecars.last, Str(Get(last_term, "finishedAt")));
    }
    if (terminated.is_object() && Int(Get(terminated, "exitCode")) == 0) continue;
    if (restartable && True(Get(c, "started"))) {
      if (True(Get(c, "ready"))) ++ready;
      continue;
    }
    if (terminated.is_object()) {
      std::string r = Str(Get(terminated, "reason"));
      if (!r.empty()) {
        reason = "Init:" + r;
      } else if (Int(Get(terminated, "signal")) != 0) {
        reason = "Init:Signal:" + std::to_string(Int(Get(terminated, "signal")));
      } else {
        reason = "Init:ExitCode:" + std::to_string(Int(Get(terminated, "exitCode")));
      }
    } else if (waiting.is_object() && !Str(Get(waiting, "reason")).empty() &&
               Str(Get(waiting, "reason")) != "PodInitializing") {
      reason = "Init:" + Str(Get(waiting, "reason"));
    } else {
      reason = "Init:" + std::to_string(i) + "/" + std::to_string(init_specs.size());
    }
    initializing = true;
    break;
  }

  Restarts shown = all;
  if (!initializing || ConditionTrue(pod, "Initialized")) {
    shown = sidecars;
    bool has_running = false;
    const json& statuses = Arr(Get(status, "containerStatuses"));
    for (size_t k = statuses.size(); k-- > 0;) {
      const json& c = statuses[k];
      const json& state = Get(c, "state");
      const json& terminated = Get(state, "terminated");
      const json& waiting = Get(state, "waiting");
      const json& last_term = Get(Get(c, "lastState"), "terminated");
      shown.count += Int(Get(c, "restartCount"));
      if (last_term.is_object()) KeepLatest(shown.last, Str(Get(last_term, "finishedAt")));
      if (waiting.is_object() && !Str(Get(waiting, "reason")).empty()) {
        reason = Str(Get(waiting, "reason"));
      } else if (terminated.is_object() && !Str(Get(terminated, "reason")).empty()) {
        reason = Str(Get(terminated, "reason"));
      } else if (terminated.is_object()) {
        reason = Int(Get(terminated, "signal")) != 0
                     ? "Signal:" + std::to_string(Int(Get(terminated, "signal")))
                     : "ExitCode:" + std::to_string(Int(Get(terminated, "exitCode")));
      } else if (True(Get(c, "ready")) && Get(state, "running").is_object()) {
        has_running = true;
        ++ready;
      }
    }
    // A container still running turns "Completed" back into Running/NotReady.
    if (reason == "Completed" && has_running) {
      reason = ConditionTrue(pod, "Ready") ? "Running" : "NotReady";
    }
  }

  bool deleting = Get(meta, "deletionTimestamp").is_string();
  if (deleting && Str(Get(status, "reason")) == "NodeLost") {
    reason = "Unknown";
  } else if (deleting && phase != "Succeeded" && phase != "Failed") {
    reason = "Terminating";
  }

  std::string restarts = std::to_string(shown.count);
  if (shown.count != 0 && !shown.last.empty()) {
    restarts += " (" + AgeSince(shown.last, now) + " ago)";
  }
  std::vector<std::string> row;
  if (options.with_namespace) row.push_back(Str(Get(meta, "namespace")));
  row.push_back(Str(Get(meta, "name")));
  row.push_back(std::to_string(ready) + "/" + std::to_string(total));
  row.push_back(reason);
  row.push_back(restarts);
  row.push_back(AgeSince(Str(Get(meta, "creationTimestamp")), now));
  if (options.wide) {
    std::string ip;
    const json& ips = Arr(Get(status, "podIPs"));
    if (!ips.empty()) ip = Str(Get(ips[0], "ip"));
    std::string node = Str(Get(spec, "nodeName"));
    std::string nominated = Str(Get(status, "nominatedNodeName"));
    std::string gates = "<none>";
    const json& gate_specs = Arr(Get(spec, "readinessGates"));
    if (!gate_specs.empty()) {
      size_t true_count = 0;
      for (const auto& g : gate_specs) {
        std::string type = Str(Get(g, "conditionType"));
        for (const auto& c : Arr(Get(status, "conditions"))) {
          if (Str(Get(c, "type")) == type) {
            true_count += Str(Get(c, "status")) == "True" ? 1 : 0;
            break;
          }
        }
      }
      gates = std::to_string(true_count) + "/" + std::to_string(gate_specs.size());
    }
    row.push_back(ip.empty() ? "<none>" : ip);
    row.push_back(node.empty() ? "<none>" : node);
    row.push_back(nominated.empty() ? "<none>" : nominated);
    row.push_back(gates);
  }
  return row;
}

std::string AlignColumns(const std::vector<std::vector<std::string>>& rows) {
  constexpr size_t kMinWidth = 6, kPadding = 3;
  // Go's tabwriter counts runes, not bytes.
  auto width = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    for (size_t i = 0; i + 1 < row.size(); ++i) {
      if (widths.size() <= i) widths.resize(i + 1, 0);
      widths[i] = std::max(widths[i], width(row[i]));
    }
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) {
        size_t w = std::max(kMinWidth, widths[i] + kPadding);
        out.append(w - width(row[i]), ' ');
      }
    }
    out += '\n';
  }
  return out;
}

std::string PodTable(const json& pods, const PodTableOptions& options,
                     std::chrono::system_clock::time_point now) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header;
  if (options.with_namespace) header.push_back("NAMESPACE");
  for (const char* h : {"NAME", "READY", "STATUS", "RESTARTS", "AGE"}) header.push_back(h);
  if (options.wide) {
    for (const char* h : {"IP", "NODE", "NOMINATED NODE", "READINESS GATES"}) header.push_back(h);
  }
  rows.push_back(header);
  for (const auto& pod : Arr(pods)) rows.push_back(PodRow(pod, options, now));
  return AlignColumns(rows);
}

}  // namespace kproxy
