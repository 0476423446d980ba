// Replicas that size themselves (`replicas: auto` or {min, max}): the
// autoscaler adds replicas while the input stays full and the work waits off
// the CPU, never beyond max, at most one change a second, and the books stay
// exact while replicas come and go.

#include "run_yaml.hpp"

#include <set>

namespace weir::test {
namespace {

TEST_CASE("autoscale: a full input whose work sleeps grows the stage up to max, every message once",
          "[runtime][autoscale]") {
  // One replica would take 3000 x 2 ms = 6 s; the input (16) is full from the
  // start and the work is a sleep, so the autoscaler adds replicas.
  const RunReport report = run_yaml(R"(
pipeline: grow
stages:
  src: {plugin: seq, config: {count: 3000}}
  work: {plugin: pass, input: src, capacity: 16, replicas: {min: 1, max: 3}, config: {work_us: 2000}}
  out: {plugin: collect, input: work}
)");
  const StageReport* work = report.stage("work");
  REQUIRE(work != nullptr);
  INFO(report.to_json());
  CHECK(work->replicas_min == 1);
  CHECK(work->replicas_max == 3);
  CHECK(work->scaled_up >= 1);
  CHECK(work->replicas <= 3);
  CHECK(work->replicas >= 2);
  CHECK(work->per_replica.size() >= work->replicas);
  // At most one decision a second (and the first not before one second).
  CHECK(work->scaled_up + work->scaled_down <= static_cast<unsigned>(report.duration_s));
  const auto out = Collected::instance().take("out");
  std::set<std::string> seen;
  for (const auto& m : out) seen.insert(m.payload);
  CHECK(out.size() == 3000);
  CHECK(seen.size() == 3000);
}

TEST_CASE("autoscale: a fixed count reports no autoscale", "[runtime][autoscale]") {
  const RunReport report = run_yaml(R"(
pipeline: fixed
stages:
  src: {plugin: seq, config: {count: 10}}
  out: {plugin: collect, input: src, replicas: 2}
)");
  CHECK(report.stage("out")->replicas_max == 0);
  CHECK(report.to_json().find("autoscale") == std::string::npos);
}

}  // namespace
}  // namespace weir::test
