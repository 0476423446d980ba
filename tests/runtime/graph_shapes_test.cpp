// Graph shapes end to end, each with its books checked from the run report.

#include "run_yaml.hpp"

#include <functional>
#include <set>

using namespace weir;
using test::Collected;
using test::run_yaml;

namespace {

std::set<std::string> payloads(const std::vector<Message>& messages) {
  std::set<std::string> out;
  for (const auto& m : messages) out.insert(m.payload);
  return out;
}

const StageReport& stage(const RunReport& report, const std::string& name) {
  const StageReport* s = report.stage(name);
  REQUIRE(s);
  return *s;
}

}  // namespace

TEST_CASE("a linear pipeline delivers every message exactly once", "[runtime]") {
  auto report = run_yaml(R"(
pipeline: linear
stages:
  src: {plugin: seq, config: {count: 5000}}
  mid: {plugin: pass, input: src, capacity: 8}
  out: {plugin: collect, input: mid}
)");
  CHECK(report.status == RunStatus::drained);
  auto got = Collected::instance().take("out");
  CHECK(got.size() == 5000);
  CHECK(payloads(got).size() == 5000);
  CHECK(stage(report, "src").emitted == 5000);
  CHECK(stage(report, "mid").received == 5000);
  CHECK(stage(report, "mid").emitted == 5000);
  CHECK(stage(report, "out").emitted == 5000);
  std::set<std::uint64_t> ids;
  for (const auto& m : got) ids.insert(m.id);
  CHECK(ids.size() == 5000);
}

TEST_CASE("fan-in closes the shared channel only after the last writer", "[runtime]") {
  auto report = run_yaml(R"(
pipeline: fan-in
stages:
  a: {plugin: seq, config: {count: 300}}
  b: {plugin: seq, replicas: 2, config: {count: 200}}
  out: {plugin: collect, input: [a, b], capacity: 4}
)");
  auto got = Collected::instance().take("out");
  CHECK(got.size() == 700);
  CHECK(stage(report, "out").received == 700);
}

TEST_CASE("fan-out broadcasts every message to every consumer", "[runtime]") {
  auto report = run_yaml(R"(
pipeline: fan-out
stages:
  src: {plugin: seq, config: {count: 1000}}
  left: {plugin: collect, input: src}
  right: {plugin: collect, input: src, capacity: 2}
)");
  CHECK(Collected::instance().take("left").size() == 1000);
  CHECK(Collected::instance().take("right").size() == 1000);
  CHECK(stage(report, "src").outputs == 2000);
}

TEST_CASE("when: routes matching messages and .unmatched takes the rest", "[runtime]") {
  auto report = run_yaml(R"(
pipeline: routing
stages:
  src: {plugin: seq, config: {count: 900, kinds: [x, y, z]}}
  xs: {plugin: collect, input: src, when: 'kind == "x"'}
  ys: {plugin: collect, input: src, when: 'kind == "y"'}
  rest: {plugin: collect, input: src.unmatched}
)");
  auto xs = Collected::instance().take("xs");
  auto ys = Collected::instance().take("ys");
  auto rest = Collected::instance().take("rest");
  CHECK(xs.size() == 300);
  CHECK(ys.size() == 300);
  REQUIRE(rest.size() == 300);
  for (const auto& m : rest) CHECK(m.attributes.get("kind") == "z");
  CHECK(stage(report, "src").unrouted == 0);
}

TEST_CASE("replicas compete: each message is handled by exactly one", "[runtime]") {
  auto report = run_yaml(R"(
pipeline: replicas
stages:
  src: {plugin: seq, replicas: 3, config: {count: 2000}}
  work: {plugin: pass, input: src, replicas: 4, capacity: 16}
  out: {plugin: collect, input: work, replicas: 2}
)");
  auto got = Collected::instance().take("out");
  CHECK(got.size() == 6000);
  CHECK(payloads(got).size() == 6000);
  const auto& work = stage(report, "work");
  CHECK(work.replicas == 4);
  std::uint64_t sum = 0;
  for (const auto& r : work.per_replica) sum += r.received;
  CHECK(sum == 6000);
}

TEST_CASE("a processor's filtered and fanned-out messages are counted apart", "[runtime]") {
  auto report = run_yaml(R"(
pipeline: filter-fanout
stages:
  src: {plugin: seq, config: {count: 100}}
  mid: {plugin: pass, input: src, config: {filter_every: 4, fanout: 3}}
  out: {plugin: collect, input: mid}
)");
  const auto& mid = stage(report, "mid");
  CHECK(mid.filtered == 25);
  CHECK(mid.emitted == 75);
  CHECK(mid.outputs == 225);
  CHECK(Collected::instance().take("out").size() == 225);
}

TEST_CASE("lanes: every message reaches the sink whatever its lane", "[runtime]") {
  auto report = run_yaml(R"(
pipeline: lanes
stages:
  src: {plugin: seq, config: {count: 3000, kinds: [urgent, normal, normal]}}
  work:
    plugin: pass
    input: src
    capacity: 8
    lanes:
      - {name: urgent, when: 'kind == "urgent"'}
      - {name: normal}
  out: {plugin: collect, input: work}
)");
  CHECK(Collected::instance().take("out").size() == 3000);
  std::uint64_t urgent = 0, normal = 0;
  for (const auto& e : report.edges)
    if (e.to == "work") (e.lane == "urgent" ? urgent : normal) += e.delivered;
  CHECK(urgent == 1000);
  CHECK(normal == 2000);
}

TEST_CASE("when_full drop_newest drops and counts instead of waiting", "[runtime]") {
  auto report = run_yaml(R"(
pipeline: drops
stages:
  src: {plugin: seq, config: {count: 2000}}
  out: {plugin: collect, input: src, capacity: 4, when_full: drop_newest, config: {work_us: 200}}
)");
  const auto& out = stage(report, "out");
  CHECK(out.dropped > 0);
  CHECK(out.received + out.dropped == 2000);
  CHECK(Collected::instance().take("out").size() == out.received);
}

TEST_CASE("when_full drop_oldest keeps the newest and counts the rest", "[runtime]") {
  auto report = run_yaml(R"(
pipeline: drops
stages:
  src: {plugin: seq, config: {count: 2000}}
  out: {plugin: collect, input: src, capacity: 4, when_full: drop_oldest, config: {work_us: 200}}
)");
  const auto& out = stage(report, "out");
  CHECK(out.dropped > 0);
  CHECK(out.received + out.dropped == 2000);
  auto got = Collected::instance().take("out");
  REQUIRE(!got.empty());
  CHECK(got.back().attributes.get("n") == "1999");  // the newest always survives
}

TEST_CASE("drop_oldest makes room in the message's own lane", "[runtime]") {
  auto report = run_yaml(R"(
pipeline: drops-in-lanes
stages:
  src: {plugin: seq, config: {count: 2000, kinds: [a, b]}}
  out:
    plugin: collect
    input: src
    capacity: 2
    when_full: drop_oldest
    lanes:
      - {name: high, when: 'kind == "a"'}
      - {name: low}
    config: {work_us: 200}
)");
  const auto& out = stage(report, "out");
  CHECK(out.dropped > 0);
  CHECK(out.received + out.dropped == 2000);
  std::set<std::string> last;
  for (const auto& m : Collected::instance().take("out")) last.insert(m.attributes.get("n"));
  CHECK(last.count("1998"));  // the newest of each lane always survives
  CHECK(last.count("1999"));
}

TEST_CASE("retries recover retryable failures", "[runtime]") {
  auto report = run_yaml(R"(
pipeline: retries
stages:
  src: {plugin: seq, config: {count: 100}}
  mid:
    plugin: pass
    input: src
    config: {fail_every: 10, fail_attempts: 2, retryable: true}
    on_error: {retries: 3, backoff: 1ms}
  out: {plugin: collect, input: mid}
)");
  const auto& mid = stage(report, "mid");
  CHECK(mid.retried == 20);
  CHECK(mid.emitted == 100);
  CHECK(mid.failed == 0);
  CHECK(Collected::instance().take("out").size() == 100);
}

TEST_CASE("exhausted retries go to the dead-letter stage with error attributes", "[runtime]") {
  auto report = run_yaml(R"(
pipeline: dead-letter
stages:
  src: {plugin: seq, config: {count: 100}}
  mid:
    plugin: pass
    input: src
    config: {fail_every: 5, retryable: true}
    on_error: {retries: 2, backoff: 1ms, dead_letter: failed}
  out: {plugin: collect, input: mid}
  failed: {plugin: collect}
)");
  const auto& mid = stage(report, "mid");
  CHECK(mid.dead_lettered == 20);
  CHECK(mid.retried == 40);
  CHECK(mid.emitted == 80);
  auto dead = Collected::instance().take("failed");
  REQUIRE(dead.size() == 20);
  CHECK(dead[0].attributes.get("stage") == "mid");
  CHECK(dead[0].attributes.get("attempts") == "3");
  CHECK(dead[0].attributes.get("error").find("planned failure") != std::string::npos);
  CHECK(Collected::instance().take("out").size() == 80);
}

TEST_CASE("failures without a dead-letter stage are counted as failed", "[runtime]") {
  auto report = run_yaml(R"(
pipeline: failures
stages:
  src: {plugin: seq, config: {count: 100}}
  mid: {plugin: pass, input: src, config: {fail_every: 4}}
  out: {plugin: collect, input: mid}
)");
  CHECK(stage(report, "mid").failed == 25);
  CHECK(stage(report, "mid").retried == 0);
  CHECK(Collected::instance().take("out").size() == 75);
}

TEST_CASE("stop() drains an endless pipeline: nothing abandoned", "[runtime]") {
  auto report = run_yaml(R"(
pipeline: endless
stages:
  src: {plugin: seq, replicas: 2, config: {count: 0}}
  mid: {plugin: pass, input: src, capacity: 16}
  out: {plugin: collect, input: mid, capacity: 16}
)",
                         [](Pipeline& p) {
                           while (p.stats().stage("out")->received < 1000) p.wait_for(std::chrono::milliseconds(5));
                           p.stop();
                         });
  CHECK(report.status == RunStatus::drained);
  CHECK(stage(report, "out").abandoned == 0);
  CHECK(Collected::instance().take("out").size() == stage(report, "src").emitted);
}

TEST_CASE("a forced stop counts what was queued as abandoned", "[runtime]") {
  auto report = test::run_stuck_at_the_gate("seq");
  CHECK(report.status == RunStatus::forced);
  CHECK(stage(report, "out").abandoned == 9);
}

TEST_CASE("a stage scales up and down while running", "[runtime]") {
  auto report = run_yaml(R"(
pipeline: scaling
stages:
  src: {plugin: seq, config: {count: 0}}
  work: {plugin: pass, input: src, capacity: 4, config: {work_us: 100}}
  out: {plugin: collect, input: work}
)",
                         [](Pipeline& p) {
                           auto done = [&p] { return p.stats().stage("out")->received; };
                           p.scale("work", 4);
                           CHECK(p.replicas("work") == 4);
                           while (done() < 500) p.wait_for(std::chrono::milliseconds(2));
                           p.scale("work", 2);
                           CHECK(p.replicas("work") == 2);
                           CHECK_THROWS_AS(p.scale("work", 0), std::invalid_argument);
                           CHECK_THROWS_AS(p.scale("nope", 2), std::invalid_argument);
                           while (done() < 1500) p.wait_for(std::chrono::milliseconds(2));
                           p.stop();
                         });
  CHECK(report.status == RunStatus::drained);
  const auto& work = stage(report, "work");
  CHECK(work.per_replica.size() == 4);
  CHECK(work.received == stage(report, "src").emitted);
  CHECK(Collected::instance().take("out").size() == work.received);
}

TEST_CASE("replicas added before the run starts have start() called once", "[runtime]") {
  Collected::instance().clear();
  PluginRegistry registry;
  test::register_test_stages(registry);
  Pipeline pipeline(load_pipeline_string(R"(
pipeline: scale-before-start
stages:
  src: {plugin: seq, config: {count: 0}}
  work: {plugin: pass, input: src}
  out: {plugin: collect, input: work}
)",
                                         registry),
                    registry);
  test::PassProcessor::starts() = 0;
  pipeline.scale("work", 3);
  CHECK(test::PassProcessor::starts() == 0);
  pipeline.start();
  CHECK(test::PassProcessor::starts() == 3);
  pipeline.scale("work", 4);  // the source is endless: the stage cannot have finished
  CHECK(test::PassProcessor::starts() == 4);
  pipeline.stop();
  auto report = pipeline.wait();
  CHECK(report.status == RunStatus::drained);
  CHECK(report.balanced());
  CHECK(stage(report, "work").received == stage(report, "src").emitted);
  CHECK(Collected::instance().take("out").size() == stage(report, "work").received);
}

TEST_CASE("a slow sink takes what is queued in whole batches, and with lanes one at a time", "[runtime]") {
  // 50 µs a message is "slow" (over 20 µs): a processor would go to batches
  // of one. A sink pays per write, so it keeps taking up to 64 at once; the
  // report's latency samples count its writes.
  const RunReport plain = run_yaml(R"(
pipeline: slow-sink
stages:
  src: {plugin: seq, config: {count: 2000}}
  out: {plugin: collect, input: src, capacity: 256, config: {work_us: 50}}
)");
  const StageReport* out = plain.stage("out");
  CHECK(out->received == 2000);
  CHECK(out->latency.samples < 1000);
  CHECK(Collected::instance().take("out").size() == 2000);

  // With lanes a batch would hold urgent messages behind others: one at a time.
  const RunReport laned = run_yaml(R"(
pipeline: slow-sink-lanes
stages:
  src: {plugin: seq, config: {count: 300, kinds: [a, b]}}
  out:
    plugin: collect
    input: src
    capacity: 64
    lanes: [{name: urgent, when: 'kind == "b"'}, {name: normal}]
    config: {work_us: 50}
)");
  CHECK(laned.stage("out")->received == 300);
  CHECK(laned.stage("out")->latency.samples == 300);
}
