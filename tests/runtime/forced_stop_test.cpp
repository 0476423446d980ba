// A forced stop ends the run even when plugin code does not return, and
// whatever a start() hook throws is named.

#include "test_stages.hpp"

#include <weir/config.hpp>
#include <weir/pipeline.hpp>

#include <catch2/catch.hpp>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

using namespace weir;
using namespace std::chrono_literals;

namespace {

// Where a Blocking stage waits until the test lets it go.
struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  bool entered = false;
  bool open = false;
  std::optional<bool> emitted;  // what emit() returned once the gate opened

  void enter_and_wait() {
    std::unique_lock lock(mutex);
    entered = true;
    changed.notify_all();
    changed.wait(lock, [this] { return open; });
  }
  void wait_entered() {
    std::unique_lock lock(mutex);
    changed.wait(lock, [this] { return entered; });
  }
  void release() {
    std::lock_guard lock(mutex);
    open = true;
    changed.notify_all();
  }
  void leave(bool emit_result) {
    std::lock_guard lock(mutex);
    emitted = emit_result;
    changed.notify_all();
  }
  bool wait_left() {
    std::unique_lock lock(mutex);
    changed.wait(lock, [this] { return emitted.has_value(); });
    return *emitted;
  }
};

class Blocking final : public Processor {
 public:
  explicit Blocking(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  void process(Message& message, Emitter& out) override {
    gate_->enter_and_wait();
    gate_->leave(out.emit(std::move(message)));
  }

 private:
  std::shared_ptr<Gate> gate_;
};

class ThrowsInStart final : public Processor {
 public:
  void start() override { throw 7; }
  void process(Message& message, Emitter& out) override { out.emit(std::move(message)); }
};

PipelineSpec spec_of(const std::string& yaml, PluginRegistry& registry) {
  test::register_test_stages(registry);
  return load_pipeline_string(yaml, registry);
}

constexpr const char* linear = R"(
pipeline: stuck
stages:
  src: {plugin: seq, config: {count: 0}}
  mid: {plugin: pass, input: src, capacity: 64}
  out: {plugin: collect, input: mid}
)";

}  // namespace

TEST_CASE("a replica stuck in plugin code is abandoned after stop_grace, named, its messages counted",
          "[runtime]") {
  PluginRegistry registry;
  PipelineSpec spec = spec_of(linear, registry);
  spec.stop_grace = 100ms;
  auto gate = std::make_shared<Gate>();
  for (auto& stage : spec.stages)
    if (stage.name == "mid") stage.factory = [gate](const StageContext&) { return std::make_unique<Blocking>(gate); };
  auto pipeline = std::make_unique<Pipeline>(std::move(spec), registry);
  pipeline->start();
  gate->wait_entered();
  pipeline->force_stop();
  const RunReport report = pipeline->wait();
  INFO(report.to_json());
  CHECK(report.status == RunStatus::forced);
  CHECK(report.balanced());
  const StageReport& mid = *report.stage("mid");
  CHECK(mid.stuck == 1);
  CHECK(mid.abandoned_in_hand >= 1);
  CHECK(mid.abandoned >= mid.abandoned_in_hand);
  REQUIRE(report.errors.size() == 1);
  CHECK_THAT(report.errors[0], Catch::StartsWith("stage 'mid' replica 0 (plugin 'pass') is stuck in process()"));
  CHECK(report.stage("out")->stuck == 0);
  // The stuck thread comes back later, after the pipeline object is gone: it
  // finds its queues closed (emit() says no) and leaves, using only what
  // ~Pipeline kept for it.
  pipeline.reset();
  gate->release();
  CHECK_FALSE(gate->wait_left());
}

TEST_CASE("a start() that throws what is not a std::exception is named", "[runtime]") {
  PluginRegistry registry;
  PipelineSpec spec = spec_of(linear, registry);
  for (auto& stage : spec.stages)
    if (stage.name == "mid") stage.factory = [](const StageContext&) { return std::make_unique<ThrowsInStart>(); };
  Pipeline pipeline(std::move(spec), registry);
  CHECK_THROWS_WITH(pipeline.start(), Catch::Contains("stage 'mid' (plugin 'pass') replica 0: start failed: an "
                                                      "exception of type int (not a std::exception)"));
}
