// kubectl's pod table (kubernetes/pkg/printers/internalversion printPod + the CLI's tabwriter):
// NAME READY STATUS RESTARTS AGE [IP NODE NOMINATED NODE READINESS GATES], NAMESPACE first
// with -A. Pure: pod JSON and the current time in, text out. Wrongly typed fields read as
// absent, never crash.
#pragma once

#include <chrono>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace kproxy {

struct PodTableOptions {
  bool wide = false;
  bool with_namespace = false;  // -A
};

// One row's cells for `pod` (a v1 Pod object), in column order.
std::vector<std::string> PodRow(const nlohmann::json& pod, const PodTableOptions& options,
                                std::chrono::system_clock::time_point now);

// Header + one row per pod, aligned like kubectl (Go tabwriter: min width 6, padding 3; the
// last column unpadded). `pods` is a JSON array of Pod objects.
std::string PodTable(const nlohmann::json& pods, const PodTableOptions& options,
                     std::chrono::system_clock::time_point now);

// Aligns cells into columns exactly as kubectl's tabwriter does.
std::string AlignColumns(const std::vector<std::vector<std::string>>& rows);

}  // namespace kproxy
