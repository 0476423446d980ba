// End-to-end acknowledgement: each message of an acknowledging source settles
// exactly once, after every copy is finished, and the report's books agree.

#include "run_yaml.hpp"

#include <functional>
#include <limits>
#include <vector>

using namespace weir;
using test::AckLedger;
using test::run_yaml;
using Outcome = AckLedger::Outcome;

namespace {

// Names every message that did not settle exactly once with `expected`.
void check_each_settled_once(std::int64_t count, const std::function<Outcome(std::int64_t)>& expected) {
  auto ledger = AckLedger::instance().take();
  std::vector<std::int64_t> wrong;
  for (std::int64_t n = 0; n < count; ++n) {
    auto it = ledger.find(n);
    if (it == ledger.end() || it->second.size() != 1 || it->second.front() != expected(n)) wrong.push_back(n);
  }
  INFO("messages not settled exactly once as expected: " << wrong.size() << " (first: "
                                                          << (wrong.empty() ? -1 : wrong.front()) << ")");
  CHECK(wrong.empty());
  CHECK(ledger.size() == static_cast<std::size_t>(count));
}

}  // namespace

TEST_CASE("acknowledgements settle once per message across fan-out, filters, retries and routing",
          "[runtime][ack]") {
  auto report = run_yaml(R"(
pipeline: acked
stages:
  src: {plugin: ack_seq, config: {count: 20000}}
  work:
    plugin: pass
    input: src
    replicas: 3
    capacity: 16
    config: {fanout: 2, filter_every: 7, fail_every: 5, fail_attempts: 1, retryable: true}
    on_error: {retries: 2, backoff: 1us}
  odd: {plugin: collect, input: work, when: 'n contains "1"', replicas: 2}
  rest: {plugin: collect, input: work.unmatched}
  copy: {plugin: collect, input: work, capacity: 4}
)");
  CHECK(report.status == RunStatus::drained);
  const auto* src = report.stage("src");
  REQUIRE(src);
  CHECK(src->acknowledges);
  CHECK(src->acked == 20000);
  CHECK(src->nacked == 0);
  CHECK(src->pending_acks == 0);
  check_each_settled_once(20000, [](std::int64_t) { return Outcome::acked; });
}

TEST_CASE("a failed copy makes a negative acknowledgement, a dead-lettered one is acknowledged", "[runtime][ack]") {
  auto report = run_yaml(R"(
pipeline: failing
stages:
  src: {plugin: ack_seq, config: {count: 3000}}
  work: {plugin: pass, input: src, config: {fail_every: 3}}
  out: {plugin: collect, input: work}
)");
  CHECK(report.stage("src")->acked == 2000);
  CHECK(report.stage("src")->nacked == 1000);
  CHECK(report.stage("src")->pending_acks == 0);
  check_each_settled_once(3000, [](std::int64_t n) { return n % 3 == 0 ? Outcome::failed : Outcome::acked; });

  report = run_yaml(R"(
pipeline: dead-lettered
stages:
  src: {plugin: ack_seq, config: {count: 3000}}
  work: {plugin: pass, input: src, config: {fail_every: 3}, on_error: {dead_letter: failed}}
  out: {plugin: collect, input: work}
  failed: {plugin: collect}
)");
  CHECK(report.stage("src")->acked == 3000);
  CHECK(test::Collected::instance().take("failed").size() == 1000);
  check_each_settled_once(3000, [](std::int64_t) { return Outcome::acked; });
}

TEST_CASE("a buffering sink's acknowledgements wait for its flush", "[runtime][ack]") {
  // Not a count until the sink's flush() records one.
  test::HoldSink::settled_at_flush().store(std::numeric_limits<std::size_t>::max());
  auto report = run_yaml(R"(
pipeline: buffered
stages:
  src: {plugin: ack_seq, config: {count: 5000}}
  out: {plugin: hold, input: src, capacity: 8}
)");
  CHECK(test::HoldSink::settled_at_flush().load() == 0);
  CHECK(report.stage("src")->acked == 5000);
  check_each_settled_once(5000, [](std::int64_t) { return Outcome::acked; });
}

TEST_CASE("a forced stop settles what it abandons as abandoned, and leaves nothing pending", "[runtime][ack]") {
  auto report = test::run_stuck_at_the_gate("ack_seq");
  CHECK(report.status == RunStatus::forced);
  const auto* src = report.stage("src");
  CHECK(src->pending_acks == 0);
  CHECK(src->acked + src->nacked == src->emitted);
  CHECK(src->nacked >= 9);  // the queued ones and the one in the source's hand
  auto ledger = AckLedger::instance().take();
  std::size_t abandoned = 0;
  for (const auto& [n, outcomes] : ledger) {
    REQUIRE(outcomes.size() == 1);
    if (outcomes.front() == Outcome::abandoned) ++abandoned;
  }
  CHECK(abandoned == src->nacked);
}

TEST_CASE("a source without acknowledgements reports no acknowledgement fields", "[runtime][ack]") {
  auto report = run_yaml(R"(
pipeline: plain
stages:
  src: {plugin: seq, config: {count: 10}}
  out: {plugin: collect, input: src}
)");
  CHECK_FALSE(report.stage("src")->acknowledges);
  CHECK(report.to_json().find("pending_acks") == std::string::npos);
}
