// Scaling while running: control never waits on the data path. A replica is
// asked to leave out of band (between batches, or while parked), so scale()
// returns at once whatever the queues hold; and while replicas come and go,
// every message arrives exactly once. Run under ThreadSanitizer too.

#include <weir/host.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

// Generous: scale() takes microseconds; the bound only keeps a hang from
// hanging the test run.
constexpr auto returns_within = 10s;

std::size_t depth_into(const weir::RunReport& report, const std::string& stage) {
  std::size_t depth = 0;
  for (const auto& edge : report.edges)
    if (edge.to == stage) depth = std::max(depth, edge.depth);
  return depth;
}

// Waits (bounded) until the stage's input queue holds `depth` messages.
bool wait_for_depth(const weir::HostPipeline& pipeline, const std::string& stage, std::size_t depth) {
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (depth_into(pipeline.stats(), stage) < depth)
    if (std::chrono::steady_clock::now() > give_up) return false;
    else std::this_thread::sleep_for(1ms);
  return true;
}

unsigned scaled_away(const weir::StageReport& stage) {
  unsigned n = 0;
  for (const auto& replica : stage.per_replica) n += replica.scaled_away;
  return n;
}

// Runs scale() on its own thread; true when it returned within the bound
// (then `took` is how long it took).
bool scale_returns(weir::HostPipeline& pipeline, const std::string& stage, unsigned replicas,
                   std::chrono::microseconds& took) {
  auto scaled = std::async(std::launch::async, [&] {
    const auto started = std::chrono::steady_clock::now();
    pipeline.scale(stage, replicas);
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
  });
  if (scaled.wait_for(returns_within) != std::future_status::ready) {
    // The old scale(): its pill waits for a slot. Read the output to free
    // it, so the test fails instead of hanging.
    pipeline.force_stop();
    scaled.wait();
    return false;
  }
  took = scaled.get();
  return true;
}

}  // namespace

TEST_CASE("scale() down returns at once with a full input queue and nobody reading", "[embed]") {
  weir::PipelineBuilder b("full");
  b.host_input("in").capacity(256);
  b.processor("work", [](weir::Message& m, weir::Emitter& out) { out.emit(std::move(m)); })
      .input("in")
      .replicas(3)
      .capacity(4);
  b.host_output("out").input("work").capacity(1);
  weir::HostPipeline pipeline(std::move(b));
  auto in = pipeline.input("in");
  auto out = pipeline.output("out");
  pipeline.start();
  constexpr int n = 100;
  for (int i = 0; i < n; ++i) REQUIRE(in.send(weir::Message(std::to_string(i))));
  REQUIRE(wait_for_depth(pipeline, "work", 4));  // full, and nobody reads `out`

  std::chrono::microseconds took{};
  REQUIRE(scale_returns(pipeline, "work", 1, took));
  if (took > 100ms) WARN("scale() took " << took.count() << " us (the machine is busy?)");
  CHECK(pipeline.replicas("work") == 1);

  // Now read: the replicas asked to leave do so after the message in hand,
  // and nothing is lost.
  int read = 0;
  std::thread reader([&] {
    while (out.recv()) ++read;
  });
  in.close();
  const auto report = pipeline.wait();
  reader.join();
  CHECK(report.status == weir::RunStatus::drained);
  CHECK(report.balanced());
  CHECK(read == n);
  const auto& work = *report.stage("work");
  CHECK(work.replicas == 1);
  REQUIRE(work.per_replica.size() == 3);
  CHECK(scaled_away(work) == 2);
  for (const auto& replica : work.per_replica) CHECK(replica.left_s.has_value());
}

TEST_CASE("the reader of a host_output stage scales that stage down on its own thread", "[embed]") {
  // The host_output's replicas are parked writing to the full handle; its
  // queue is full behind them. The reader (this thread) scales it down: the
  // old scale() waited for room that only this thread could make.
  weir::PipelineBuilder b("self");
  b.host_input("in").capacity(256);
  b.host_output("out").input("in").replicas(3).capacity(2);
  weir::HostPipeline pipeline(std::move(b));
  auto in = pipeline.input("in");
  auto out = pipeline.output("out");
  pipeline.start();
  constexpr int n = 50;
  for (int i = 0; i < n; ++i) REQUIRE(in.send(weir::Message(std::to_string(i))));
  REQUIRE(wait_for_depth(pipeline, "out", 2));

  std::chrono::microseconds took{};
  REQUIRE(scale_returns(pipeline, "out", 1, took));
  if (took > 100ms) WARN("scale() took " << took.count() << " us (the machine is busy?)");
  in.close();
  int read = 0;
  while (out.recv()) ++read;
  const auto report = pipeline.wait();
  CHECK(read == n);
  CHECK(report.status == weir::RunStatus::drained);
  CHECK(report.balanced());
  CHECK(scaled_away(*report.stage("out")) == 2);
}

TEST_CASE("an idle replica parked on its empty queue leaves when scaled down, and scaling up again reuses it",
          "[embed]") {
  std::atomic<int> written{0};
  weir::PipelineBuilder b("idle");
  b.host_input("in");
  b.sink("count", [&](const weir::Message&) { written.fetch_add(1); }).input("in").replicas(4);
  weir::HostPipeline pipeline(std::move(b));
  auto in = pipeline.input("in");
  pipeline.start();
  pipeline.scale("count", 1);
  // Nothing is sent: the three leave because they were woken, not because a
  // message came. Bounded wait for their threads to end.
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  auto left = [&] {
    unsigned n = 0;
    const weir::RunReport now = pipeline.stats();
    for (const auto& replica : now.stage("count")->per_replica) n += replica.left_s.has_value();
    return n;
  };
  while (left() < 3 && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(1ms);
  CHECK(left() == 3);
  pipeline.scale("count", 2);
  CHECK(pipeline.stats().stage("count")->per_replica.size() == 5);
  for (int i = 0; i < 100; ++i) REQUIRE(in.send(weir::Message("x")));
  const auto report = pipeline.stop(60s);
  CHECK(written.load() == 100);
  CHECK(report.balanced());
  CHECK(scaled_away(*report.stage("count")) == 3);
  CHECK(report.stage("count")->replicas == 2);
}

TEST_CASE("stress: every message arrives exactly once while replicas are scaled up and down", "[embed][stress]") {
  constexpr int n = 20000;
  auto seen = std::make_shared<std::vector<std::atomic<int>>>(n);
  weir::PipelineBuilder b("churn");
  b.source("numbers", [](weir::Emitter& out, std::stop_token) {
    for (int i = 0; i < n; ++i)
      if (!out.emit(weir::Message(std::to_string(i)))) return;
  });
  b.processor("work",
              [](weir::Message& m, weir::Emitter& out) {
                if (std::stoi(m.payload) % 97 == 0) std::this_thread::sleep_for(200us);  // some slow ones
                out.emit(std::move(m));
              })
      .input("numbers")
      .capacity(8);
  b.sink("mark", [seen](const weir::Message& m) { (*seen)[std::stoi(m.payload)].fetch_add(1); })
      .input("work")
      .capacity(8);
  weir::HostPipeline pipeline(std::move(b));
  pipeline.start();

  std::minstd_rand random(20);
  std::uniform_int_distribution<unsigned> replicas(1, 5);
  unsigned changes = 0;
  try {
    while (!pipeline.wait_for(1ms)) {
      pipeline.scale(changes % 2 ? "mark" : "work", replicas(random));
      ++changes;
    }
  } catch (const std::logic_error&) {
    // The stage has finished (its input closed and drained): the run is ending.
  }
  const auto report = pipeline.wait();
  INFO(changes << " scale() calls");
  CHECK(report.status == weir::RunStatus::drained);
  CHECK(report.balanced());
  int missing = 0, repeated = 0;
  for (int i = 0; i < n; ++i) {
    const int count = (*seen)[i].load();
    if (count == 0) ++missing;
    if (count > 1) ++repeated;
    if (count != 1 && missing + repeated <= 10) UNSCOPED_INFO("message " << i << " arrived " << count << " times");
  }
  CHECK(missing == 0);
  CHECK(repeated == 0);
  CHECK(report.stage("mark")->received == n);
  CHECK(changes > 2);
}

TEST_CASE("replicas that size themselves give replicas back when their input stays idle", "[embed][autoscale]") {
  weir::PipelineBuilder b("idle");
  b.host_input("in");
  b.processor("work", [](weir::Message& m, weir::Emitter& out) { out.emit(std::move(m)); })
      .input("in")
      .replicas(weir::Autoscale{1, 4});
  b.sink("out", [](const weir::Message&) {}).input("work");
  weir::HostPipeline pipeline(std::move(b));
  pipeline.start();
  pipeline.scale("work", 4);  // the host's own choice; the autoscaler may undo it
  // Nothing arrives: after two empty seconds (and three since its start) the
  // autoscaler takes one replica back. Bounded wait, polling the stats.
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  unsigned replicas = 4;
  while ((replicas = pipeline.stats().stage("work")->replicas) == 4 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(50ms);
  const weir::RunReport report = pipeline.stop(10s);
  const weir::StageReport* work = report.stage("work");
  INFO(report.to_json());
  CHECK(replicas < 4);
  CHECK(work->scaled_down >= 1);
  CHECK(work->scaled_up == 0);
  CHECK(work->replicas == 4 - work->scaled_down);
  CHECK(report.balanced());
}

namespace {

// Passes each message on.
class PassOn final : public weir::Processor {
 public:
  void process(weir::Message& message, weir::Emitter& out) override { out.emit(std::move(message)); }
};

}  // namespace

TEST_CASE("a replica that scale() is making, in plugin code, holds up no report", "[embed]") {
  // Its constructor (a connection being opened, say) waits until the test
  // has had a report: a report that waited for the constructor would wait
  // for ever, and so would a crash report if the constructor crashed.
  std::promise<void> entered, released;
  std::shared_future<void> release = released.get_future().share();
  weir::PipelineBuilder b("slow-constructor");
  b.host_input("in").capacity(16);
  b.stage("work", weir::Kind::processor, [&entered, release](const weir::StageContext& context) {
     if (context.replica == 1) {
       entered.set_value();
       release.wait_for(30s);
     }
     return std::unique_ptr<weir::Stage>(std::make_unique<PassOn>());
   }).input("in");
  b.host_output("out").input("work");
  weir::HostPipeline pipeline(std::move(b));
  pipeline.start();
  auto scaled = std::async(std::launch::async, [&] { pipeline.scale("work", 2); });
  REQUIRE(entered.get_future().wait_for(returns_within) == std::future_status::ready);
  auto report = std::async(std::launch::async, [&] { return pipeline.stats(); });
  auto replicas = std::async(std::launch::async, [&] { return pipeline.replicas("work"); });
  const bool reported = report.wait_for(returns_within) == std::future_status::ready;
  const bool counted = replicas.wait_for(returns_within) == std::future_status::ready;
  released.set_value();  // lets the constructor, and so an old scale() and its report, go on
  CHECK(reported);
  CHECK(counted);
  scaled.get();
  CHECK(report.get().stage("work")->replicas == 1);  // the replica being made is not running yet
  pipeline.input("in").close();
  const weir::RunReport final_report = pipeline.wait();
  CHECK(final_report.status == weir::RunStatus::drained);
  CHECK(final_report.stage("work")->replicas == 2);
}
