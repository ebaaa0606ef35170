#include "tests/sim/faults.h"

#include <charconv>

namespace kproxy::sim {

namespace {

bool ParseNumber(std::string_view text, uint64_t max, uint64_t* out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && *out <= max;
}

}  // namespace

Status ApplyFault(std::string_view spec, Faults* f) {
  std::string_view name = spec.substr(0, spec.find('='));
  std::string_view value = spec.find('=') == std::string_view::npos
                               ? std::string_view()
                               : spec.substr(spec.find('=') + 1);
  bool has_value = spec.find('=') != std::string_view::npos;
  auto flag = [&](bool* field) -> Status {
    if (has_value)
      return MakeError(ErrorCode::kUsage, "fault " + std::string(name) + " takes no value");
    *field = true;
    return Status::Ok();
  };
  if (name == "ws-forbidden") return flag(&f->ws_forbidden);
  if (name == "no-v5") return flag(&f->no_v5);
  if (name == "strip-upgrade") return flag(&f->strip_upgrade);
  if (name == "rbac-ws-get") return flag(&f->rbac_ws_get);
  if (name == "rbac-both") return flag(&f->rbac_both);
  if (name == "h2-only") return flag(&f->h2_only);
  if (name == "expired") return flag(&f->expired);
  if (name == "slow-reader") return flag(&f->slow_reader);
  uint64_t n = 0;
  if (name == "drop-after") {
    if (!ParseNumber(value, UINT64_MAX, &n) || n == 0) {
      return MakeError(ErrorCode::kUsage, "drop-after needs a positive byte count");
    }
    f->drop_after = n;
    return Status::Ok();
  }
  if (name == "delay") {
    if (!ParseNumber(value, 60000, &n)) {
      return MakeError(ErrorCode::kUsage, "delay needs milliseconds (0..60000)");
    }
    f->delay_ms = static_cast<int>(n);
    return Status::Ok();
  }
  return MakeError(ErrorCode::kUsage, "unknown fault \"" + std::string(spec) + "\"");
}

Result<Faults> ParseFaults(const std::vector<std::string>& specs) {
  Faults faults;
  for (const std::string& spec : specs) {
    Status s = ApplyFault(spec, &faults);
    if (!s) return s.error();
  }
  return faults;
}

std::vector<std::string> FaultNames(const Faults& f) {
  std::vector<std::string> out;
  if (f.ws_forbidden) out.push_back("ws-forbidden");
  if (f.no_v5) out.push_back("no-v5");
  if (f.strip_upgrade) out.push_back("strip-upgrade");
  if (f.rbac_ws_get) out.push_back("rbac-ws-get");
  if (f.rbac_both) out.push_back("rbac-both");
  if (f.h2_only) out.push_back("h2-only");
  if (f.expired) out.push_back("expired");
  if (f.slow_reader) out.push_back("slow-reader");
  if (f.drop_after) out.push_back("drop-after=" + std::to_string(f.drop_after));
  if (f.delay_ms) out.push_back("delay=" + std::to_string(f.delay_ms));
  return out;
}

}  // namespace kproxy::sim
