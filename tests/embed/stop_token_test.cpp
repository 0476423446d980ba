// stop(deadline) bounds the call: lambda and object stages get the replica's
// stop token, requested when the stop is forced, so long work gives up
// instead of holding the stop for stop_grace.

#include <weir/host.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {

// Long work that gives up when `stop` is requested: true if it did.
bool work_for_a_minute(std::stop_token stop) {
  std::mutex mutex;
  std::condition_variable_any cv;
  std::unique_lock lock(mutex);
  return cv.wait_for(lock, stop, 60s, [] { return false; }) || stop.stop_requested();
}

class SlowProcessor final : public weir::Processor {
 public:
  SlowProcessor(const weir::StageContext& context, std::atomic<int>* entered)
      : stop_(context.stop), entered_(entered) {}
  void process(weir::Message& message, weir::Emitter& out) override {
    entered_->fetch_add(1);
    if (!work_for_a_minute(stop_)) out.emit(std::move(message));
  }

 private:
  std::stop_token stop_;
  std::atomic<int>* entered_;
};

// Sends one message, waits (bounded) until the stage is inside it, then
// stops with a 200 ms deadline on another thread: true when stop() returned
// long before stop_grace (30 s here) would have let it.
bool stop_returns_early(weir::HostPipeline& pipeline, const std::atomic<int>& entered, weir::RunReport& report) {
  auto in = pipeline.input("in");
  pipeline.start();
  REQUIRE(in.send(weir::Message("long")));
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (entered.load() == 0 && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(1ms);
  REQUIRE(entered.load() == 1);
  auto stopped = std::async(std::launch::async, [&] { return pipeline.stop(200ms); });
  if (stopped.wait_for(20s) != std::future_status::ready) return false;
  report = stopped.get();
  return true;
}

}  // namespace

TEST_CASE("a lambda processor gets the stop token: stop(deadline) is not held by its long message", "[embed]") {
  std::atomic<int> entered{0};
  std::atomic<bool> gave_up{false};
  weir::PipelineBuilder b("long-work");
  b.stop_grace(30s);
  b.host_input("in");
  b.processor("slow",
              [&](weir::Message& m, weir::Emitter& out, std::stop_token stop) {
                entered.fetch_add(1);
                if (work_for_a_minute(stop)) {
                  gave_up = true;
                  return;  // emits nothing: counted as filtered
                }
                out.emit(std::move(m));
              })
      .input("in");
  b.sink("done", [](const weir::Message&) {}).input("slow");
  weir::HostPipeline pipeline(std::move(b));
  weir::RunReport report;
  REQUIRE(stop_returns_early(pipeline, entered, report));
  CHECK(gave_up.load());
  CHECK(report.status == weir::RunStatus::forced);
  CHECK(report.stage("slow")->stuck == 0);
  CHECK(report.stage("slow")->filtered == 1);
  CHECK(report.balanced());
}

TEST_CASE("a lambda sink gets the stop token", "[embed]") {
  std::atomic<int> entered{0};
  std::atomic<bool> gave_up{false};
  weir::PipelineBuilder b("long-write");
  b.stop_grace(30s);
  b.host_input("in");
  b.sink("slow",
         [&](const weir::Message&, std::stop_token stop) {
           entered.fetch_add(1);
           if (work_for_a_minute(stop)) gave_up = true;
         })
      .input("in");
  weir::HostPipeline pipeline(std::move(b));
  weir::RunReport report;
  REQUIRE(stop_returns_early(pipeline, entered, report));
  CHECK(gave_up.load());
  CHECK(report.stage("slow")->stuck == 0);
  CHECK(report.balanced());
}

TEST_CASE("an object stage finds the stop token in its StageContext", "[embed]") {
  std::atomic<int> entered{0};
  weir::PipelineBuilder b("long-object");
  b.stop_grace(30s);
  b.host_input("in");
  b.stage<SlowProcessor>("slow", &entered).input("in");
  b.sink("done", [](const weir::Message&) {}).input("slow");
  weir::HostPipeline pipeline(std::move(b));
  weir::RunReport report;
  REQUIRE(stop_returns_early(pipeline, entered, report));
  CHECK(report.status == weir::RunStatus::forced);
  CHECK(report.stage("slow")->stuck == 0);
  CHECK(report.stage("slow")->filtered == 1);
}

TEST_CASE("a graceful stop does not request the stop token", "[embed]") {
  std::atomic<int> requested{0};
  weir::PipelineBuilder b("calm");
  b.host_input("in");
  b.processor("look",
              [&](weir::Message& m, weir::Emitter& out, std::stop_token stop) {
                requested.fetch_add(stop.stop_requested());
                out.emit(std::move(m));
              })
      .input("in")
      .replicas(2);
  b.sink("done", [](const weir::Message&) {}).input("look");
  weir::HostPipeline pipeline(std::move(b));
  auto in = pipeline.input("in");
  pipeline.start();
  for (int i = 0; i < 100; ++i) REQUIRE(in.send(weir::Message(std::to_string(i))));
  const auto report = pipeline.stop(60s);
  CHECK(report.status == weir::RunStatus::drained);
  CHECK(report.stage("done")->received == 100);
  CHECK(requested.load() == 0);
}
