// kubectl's pod table: status/ready/restarts rules, AGE text and column alignment. Expected
// strings follow kubectl's printPod and duration.HumanDuration (kubernetes v1.32).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/rest/human_duration.h"
#include "core/rest/pod_table.h"

namespace kproxy {
namespace {

using nlohmann::json;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

const auto kNow = *ParseRfc3339("2024-05-10T12:00:00Z");

std::vector<std::string> Row(const std::string& pod_json, bool wide = false) {
  PodTableOptions o;
  o.wide = wide;
  return PodRow(json::parse(pod_json), o, kNow);
}

TEST_CASE("rest pod table: HumanDuration boundaries") {
  struct Case {
    milliseconds d;
    const char* want;
  };
  std::vector<Case> cases = {
      {milliseconds(-2500), "<invalid>"},
      {milliseconds(-1500), "0s"},
      {seconds(0), "0s"},
      {seconds(59), "59s"},
      {seconds(119), "119s"},
      {seconds(120), "2m"},
      {seconds(125), "2m5s"},
      {seconds(599), "9m59s"},
      {minutes(10), "10m"},
      {minutes(179), "179m"},
      {minutes(180), "3h"},
      {minutes(190), "3h10m"},
      {hours(7) + minutes(59), "7h59m"},
      {hours(8), "8h"},
      {hours(47), "47h"},
      {hours(48), "2d"},
      {hours(50), "2d2h"},
      {hours(24 * 8), "8d"},
      {hours(24 * 729), "729d"},
      {hours(24 * 730), "2y"},
      {hours(24 * 740), "2y10d"},
      {hours(24 * 365 * 8), "8y"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.d.count());
    CHECK(HumanDuration(c.d) == c.want);
  }
}

TEST_CASE("rest pod table: RFC 3339 parsing") {
  auto base = ParseRfc3339("2024-05-10T12:00:00Z");
  REQUIRE(base);
  CHECK(*ParseRfc3339("2024-05-10T14:00:00+02:00") == *base);
  CHECK(*ParseRfc3339("2024-05-10T12:00:00.000000Z") == *base);
  CHECK(std::chrono::duration_cast<milliseconds>(*ParseRfc3339("2024-05-10T12:00:00.25Z") - *base)
            .count() == 250);
  for (const char* bad :
       {"", "2024-05-10", "2024-05-10T12:00:00", "2024-13-10T12:00:00Z", "2024-05-10T12:00:00ZZ",
        "2024-05-10T12:00:00.Z", "x024-05-10T12:00:00Z", "2024-05-10T12:00:00+0200"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseRfc3339(bad).has_value());
  }
  CHECK(AgeSince("", kNow) == "<unknown>");
  CHECK(AgeSince("2024-05-10T11:59:15Z", kNow) == "45s");
}

TEST_CASE("rest pod table: running, pending and completed pods") {
  CHECK(Row(R"({"metadata":{"name":"web","creationTimestamp":"2024-05-10T11:00:00Z"},
      "spec":{"containers":[{"name":"a"},{"name":"b"}]},
      "status":{"phase":"Running","containerStatuses":[
        {"name":"a","ready":true,"restartCount":0,"state":{"running":{}}},
        {"name":"b","ready":false,"restartCount":0,"state":{"running":{}}}]}})") ==
        std::vector<std::string>{"web", "1/2", "Running", "0", "60m"});
  CHECK(Row(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"a"}]},
      "status":{"phase":"Pending","containerStatuses":[
        {"name":"a","ready":false,"restartCount":0,"state":{"waiting":{"reason":"ContainerCreating"}}}]}})") ==
        std::vector<std::string>{"p", "0/1", "ContainerCreating", "0", "<unknown>"});
  CHECK(Row(R"({"metadata":{"name":"job"},"spec":{"containers":[{"name":"a"}]},
      "status":{"phase":"Succeeded","containerStatuses":[
        {"name":"a","ready":false,"restartCount":0,"state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}})")
            [2] == "Completed");
  // Terminated without a reason: ExitCode / Signal.
  CHECK(Row(R"({"metadata":{"name":"x"},"spec":{"containers":[{"name":"a"}]},
      "status":{"phase":"Failed","containerStatuses":[
        {"name":"a","state":{"terminated":{"exitCode":3}}}]}})")[2] == "ExitCode:3");
  CHECK(Row(R"({"metadata":{"name":"x"},"spec":{"containers":[{"name":"a"}]},
      "status":{"phase":"Failed","containerStatuses":[
        {"name":"a","state":{"terminated":{"exitCode":137,"signal":9}}}]}})")[2] == "Signal:9");
  // Status reason wins over the phase (Evicted).
  CHECK(Row(R"({"metadata":{"name":"x"},"spec":{"containers":[{"name":"a"}]},
      "status":{"phase":"Failed","reason":"Evicted"}})")[2] == "Evicted");
}

TEST_CASE("rest pod table: restarts show the last termination's age") {
  auto row = Row(R"({"metadata":{"name":"crash"},"spec":{"containers":[{"name":"a"}]},
      "status":{"phase":"Running","containerStatuses":[
        {"name":"a","ready":false,"restartCount":5,
         "state":{"waiting":{"reason":"CrashLoopBackOff"}},
         "lastState":{"terminated":{"exitCode":1,"finishedAt":"2024-05-10T11:57:30Z"}}}]}})");
  CHECK(row[2] == "CrashLoopBackOff");
  CHECK(row[3] == "5 (2m30s ago)");
}

TEST_CASE("rest pod table: init containers") {
  CHECK(Row(R"({"metadata":{"name":"i"},"spec":{"initContainers":[{"name":"i1"},{"name":"i2"}],
      "containers":[{"name":"a"}]},
      "status":{"phase":"Pending","initContainerStatuses":[
        {"name":"i1","state":{"terminated":{"exitCode":0}}},
        {"name":"i2","state":{"running":{}}}]}})")[2] == "Init:1/2");
  CHECK(Row(R"({"metadata":{"name":"i"},"spec":{"initContainers":[{"name":"i1"}],
      "containers":[{"name":"a"}]},
      "status":{"phase":"Pending","initContainerStatuses":[
        {"name":"i1","restartCount":2,"state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}})") ==
        std::vector<std::string>{"i", "0/1", "Init:CrashLoopBackOff", "2", "<unknown>"});
  CHECK(Row(R"({"metadata":{"name":"i"},"spec":{"initContainers":[{"name":"i1"}],
      "containers":[{"name":"a"}]},
      "status":{"phase":"Failed","initContainerStatuses":[
        {"name":"i1","state":{"terminated":{"exitCode":2}}}]}})")[2] == "Init:ExitCode:2");
  // A restartable init container (sidecar) counts toward READY and the total.
  CHECK(
      Row(R"({"metadata":{"name":"s"},"spec":{"initContainers":[{"name":"side","restartPolicy":"Always"}],
      "containers":[{"name":"a"}]},
      "status":{"phase":"Running","conditions":[{"type":"Initialized","status":"True"}],
      "initContainerStatuses":[{"name":"side","ready":true,"started":true,"restartCount":1,"state":{"running":{}}}],
      "containerStatuses":[{"name":"a","ready":true,"restartCount":0,"state":{"running":{}}}]}})") ==
      std::vector<std::string>{"s", "2/2", "Running", "1", "<unknown>"});
}

TEST_CASE("rest pod table: terminating, lost node, scheduling gates, Completed with a runner") {
  CHECK(Row(R"({"metadata":{"name":"t","deletionTimestamp":"2024-05-10T11:59:00Z"},
      "spec":{"containers":[{"name":"a"}]},"status":{"phase":"Running"}})")[2] == "Terminating");
  CHECK(Row(R"({"metadata":{"name":"t","deletionTimestamp":"2024-05-10T11:59:00Z"},
      "spec":{"containers":[{"name":"a"}]},"status":{"phase":"Running","reason":"NodeLost"}})")
            [2] == "Unknown");
  CHECK(Row(R"({"metadata":{"name":"t","deletionTimestamp":"2024-05-10T11:59:00Z"},
      "spec":{"containers":[{"name":"a"}]},"status":{"phase":"Succeeded"}})")[2] == "Succeeded");
  CHECK(Row(R"({"metadata":{"name":"g"},"spec":{"containers":[{"name":"a"}]},
      "status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"SchedulingGated"}]}})")
            [2] == "SchedulingGated");
  CHECK(Row(R"({"metadata":{"name":"c"},"spec":{"containers":[{"name":"a"},{"name":"b"}]},
      "status":{"phase":"Running","conditions":[{"type":"Ready","status":"False"}],"containerStatuses":[
        {"name":"a","ready":false,"state":{"terminated":{"exitCode":0,"reason":"Completed"}}},
        {"name":"b","ready":true,"state":{"running":{}}}]}})")[2] == "NotReady");
}

TEST_CASE("rest pod table: wide columns") {
  auto row = Row(R"({"metadata":{"name":"w"},"spec":{"containers":[{"name":"a"}],"nodeName":"n1",
      "readinessGates":[{"conditionType":"x/ready"},{"conditionType":"y/ready"}]},
      "status":{"phase":"Running","podIPs":[{"ip":"10.0.0.7"},{"ip":"fd00::7"}],
      "nominatedNodeName":"n2","conditions":[{"type":"x/ready","status":"True"}]}})",
                 true);
  CHECK(row == std::vector<std::string>{"w", "0/1", "Running", "0", "<unknown>", "10.0.0.7", "n1",
                                        "n2", "1/2"});
  auto bare = Row(R"({"metadata":{"name":"w"},"spec":{},"status":{}})", true);
  CHECK(bare == std::vector<std::string>{"w", "0/0", "", "0", "<unknown>", "<none>", "<none>",
                                         "<none>", "<none>"});
}

TEST_CASE("rest pod table: wrongly typed fields read as absent") {
  for (
      const char* pod : {
          R"({"metadata":"x"})",
          R"([])",
          R"(null)",
          R"({"metadata":{"name":5},"spec":{"containers":"a"},"status":{"phase":7}})",
          R"({"metadata":{"name":"a"},"status":{"containerStatuses":[1,"x",{"state":[]}]}})",
          R"({"metadata":{"name":"a"},"status":{"initContainerStatuses":[{"state":{"terminated":"x"}}]}})",
      }) {
    CAPTURE(pod);
    CHECK(Row(pod, true).size() == 9);
  }
}

TEST_CASE("rest pod table: columns align like kubectl's tabwriter") {
  CHECK(AlignColumns({{"NAME", "READY", "STATUS", "RESTARTS", "AGE"},
                      {"nginx", "1/1", "Running", "0", "10s"}}) ==
        "NAME    READY   STATUS    RESTARTS   AGE\n"
        "nginx   1/1     Running   0          10s\n");
  // Minimum cell width 6 including padding; widths count runes, not bytes.
  CHECK(AlignColumns({{"A", "B"}, {"é", "x"}}) == "A     B\né     x\n");
  auto table = PodTable(json::parse(R"([{"metadata":{"name":"a","namespace":"ns1"}}])"),
                        {false, true}, kNow);
  CHECK(table ==
        "NAMESPACE   NAME   READY   STATUS   RESTARTS   AGE\n"
        "ns1         a      0/0              0          <unknown>\n");
}

}  // namespace
}  // namespace kproxy
