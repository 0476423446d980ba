// The embedding API: feeding, reading, request/reply, stop with a deadline,
// teardown. Run under ThreadSanitizer too.

#include <weir/host.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

// Holds a processor's replicas until opened; what a held-up pipeline looks like.
class Gate {
 public:
  void pass() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return open_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
};

std::size_t thread_count() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// Plugin libraries mapped into this process (the build's plugin folder).
std::set<std::string> plugin_libraries_mapped() {
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> files;
  for (std::string line; std::getline(maps, line);)
    if (line.find("/weir/plugins/") != std::string::npos) files.insert(line.substr(line.find('/')));
  return files;
}

weir::PipelineBuilder echo_pipeline(std::size_t input_capacity, unsigned replicas) {
  weir::PipelineBuilder b("echo");
  b.host_input("requests").capacity(input_capacity);
  b.processor("answer",
              [](weir::Message& m, weir::Emitter& out) {
                m.payload = "re:" + m.payload;
                out.emit(std::move(m));
              })
      .input("requests")
      .replicas(replicas)
      .capacity(16);
  b.host_reply("answers").input("answer");
  return b;
}

std::uint64_t total_abandoned(const weir::RunReport& report) {
  std::uint64_t n = 0;
  for (const auto& stage : report.stages) n += stage.abandoned;
  return n;
}

}  // namespace

TEST_CASE("a lambda pipeline is fed through an input handle and read through a callback and a pull handle",
          "[embed]") {
  std::atomic<int> seen{0};
  weir::PipelineBuilder b("shout");
  b.host_input("lines").capacity(8);
  b.processor("upper",
              [](weir::Message& m, weir::Emitter& out) {
                for (char& c : m.payload) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                out.emit(std::move(m));
              })
      .input("lines")
      .replicas(2);
  b.sink("tap", [&](const weir::Message&) { seen.fetch_add(1, std::memory_order_relaxed); }).input("upper");
  b.host_output("results").input("upper").capacity(4);
  weir::HostPipeline pipeline(std::move(b));
  auto in = pipeline.input("lines");
  auto out = pipeline.output("results");
  pipeline.start();

  constexpr int n = 200;
  std::multiset<std::string> got;
  std::thread reader([&] {
    while (auto m = out.recv()) got.insert(m->payload);
  });
  for (int i = 0; i < n; ++i) REQUIRE(in.send(weir::Message("line " + std::to_string(i))));
  in.close();
  CHECK_FALSE(in.send(weir::Message("too late")));
  const weir::RunReport report = pipeline.wait();
  reader.join();  // the output closed when its stage finished

  CHECK(report.status == weir::RunStatus::drained);
  CHECK(report.balanced());
  CHECK(seen.load() == n);
  REQUIRE(got.size() == n);
  for (int i = 0; i < n; ++i) CHECK(got.count("LINE " + std::to_string(i)) == 1);
  CHECK(report.stage("lines")->emitted == n);
  CHECK(report.stage("results")->emitted == n);
}

TEST_CASE("the input handle reports backpressure: try_send full, send_for timeout", "[embed]") {
  Gate gate;
  std::atomic<int> written{0};
  weir::PipelineBuilder b("held");
  b.host_input("in").capacity(2);
  b.processor("slow",
              [&](weir::Message& m, weir::Emitter& out) {
                gate.pass();
                out.emit(std::move(m));
              })
      .input("in")
      .capacity(1);
  b.sink("done", [&](const weir::Message&) { written.fetch_add(1); }).input("slow");
  weir::HostPipeline pipeline(std::move(b));
  auto in = pipeline.input("in");
  pipeline.start();

  // Held up, the pipeline takes exactly this many before it stops moving:
  // 2 in the handle's channel, 1 in the source's hand (blocked emitting), 1 in
  // the processor's queue and 1 in the processor's hand (at the gate). Blocking
  // sends get them all in, whatever the threads' timing.
  constexpr int room = 5;
  for (int i = 0; i < room; ++i) REQUIRE(in.send(weir::Message("m" + std::to_string(i))));

  weir::Message full("full");
  CHECK(in.try_send(std::move(full)) == weir::SendStatus::full);
  CHECK(full.payload == "full");  // still the caller's
  weir::Message late("late");
  CHECK(in.send_for(std::move(late), 20ms) == weir::SendStatus::timeout);
  CHECK(late.payload == "late");
  CHECK(pipeline.stats().stage("slow")->received == 1);  // nothing got past the gate

  gate.open();
  REQUIRE(in.send(std::move(late)));
  in.close();
  CHECK(in.try_send(weir::Message("closed")) == weir::SendStatus::closed);
  const auto report = pipeline.wait();
  CHECK(report.status == weir::RunStatus::drained);
  CHECK(written.load() == room + 1);
  CHECK(report.balanced());
}

TEST_CASE("replies under load: every request gets its own reply exactly once", "[embed]") {
  weir::HostPipeline pipeline(echo_pipeline(32, 3));
  auto in = pipeline.input("requests");
  pipeline.start();

  constexpr int threads = 8;
  constexpr int per_thread = 1000;
  std::atomic<int> matched{0}, wrong{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < threads; ++t)
    clients.emplace_back([&, t] {
      // Half asked one at a time, half with many in flight.
      std::vector<std::pair<std::string, weir::PendingReply>> in_flight;
      for (int i = 0; i < per_thread; ++i) {
        std::string body = std::to_string(t) + "/" + std::to_string(i);
        auto reply = in.request(weir::Message(body));
        if (i % 2 == 0) {
          (reply.get().payload == "re:" + body ? matched : wrong).fetch_add(1);
        } else {
          in_flight.emplace_back(std::move(body), std::move(reply));
        }
      }
      for (auto& [body, reply] : in_flight) {
        const auto answer = reply.get_for(60s);
        (answer && answer->payload == "re:" + body ? matched : wrong).fetch_add(1);
      }
    });
  for (auto& c : clients) c.join();
  CHECK(wrong.load() == 0);
  CHECK(matched.load() == threads * per_thread);

  const auto report = pipeline.stop(60s);
  CHECK(report.status == weir::RunStatus::drained);
  // One message per request reached the reply stage: nothing answered twice.
  CHECK(report.stage("answers")->received == threads * per_thread);
  CHECK(report.balanced());
}

TEST_CASE("a request that gets no reply ends in an error saying why", "[embed]") {
  weir::PipelineBuilder b("picky");
  b.host_input("in");
  b.processor("judge",
              [](weir::Message& m, weir::Emitter& out) {
                if (m.payload == "drop") return;  // filtered: no copy goes on
                if (m.payload == "fail") throw weir::PermanentError("cannot judge 'fail'");
                out.emit(std::move(m));
              })
      .input("in");
  b.host_reply("answers").input("judge");
  weir::HostPipeline pipeline(std::move(b));
  auto in = pipeline.input("in");

  auto before_start = in.request(weir::Message("early"));  // waits in the input until start
  pipeline.start();
  CHECK(before_start.get().payload == "early");

  auto reason_of = [](weir::PendingReply reply) {
    try {
      reply.get();
    } catch (const weir::RequestError& e) {
      return e.reason();
    }
    FAIL("a reply arrived");
    return weir::RequestError::Reason::stopped;
  };
  CHECK(reason_of(in.request(weir::Message("drop"))) == weir::RequestError::Reason::lost);
  CHECK(reason_of(in.request(weir::Message("fail"))) == weir::RequestError::Reason::failed);
  CHECK(in.request(weir::Message("fine")).get().payload == "fine");

  pipeline.stop(10s);
  CHECK(reason_of(in.request(weir::Message("after"))) == weir::RequestError::Reason::stopped);
}

TEST_CASE("a request that no consumer takes fails as lost at once and not at the stop", "[embed]") {
  // `pick` emits every request, but its only consumer takes just "yes": a
  // "no" is unrouted. The processor then waits for its next message, which
  // never comes; the request must not wait for it (nor for stop()).
  weir::PipelineBuilder b("unrouted");
  b.host_input("in");
  b.processor("pick", [](weir::Message& m, weir::Emitter& out) { out.emit(std::move(m)); }).input("in");
  b.host_reply("answers").input("pick").when("payload == \"yes\"");
  weir::HostPipeline pipeline(std::move(b));
  auto in = pipeline.input("in");
  pipeline.start();
  CHECK(in.request(weir::Message("yes")).get_for(60s).has_value());

  auto reply = in.request(weir::Message("no"));
  std::optional<weir::RequestError::Reason> reason;
  try {
    if (reply.get_for(1s)) FAIL("a reply arrived");
  } catch (const weir::RequestError& e) {
    reason = e.reason();
  }
  INFO("get_for(1s) must fail as lost before the stop, not time out");
  CHECK(reason == weir::RequestError::Reason::lost);
  CHECK(pipeline.stats().stage("pick")->unrouted == 1);
  CHECK(pipeline.stop(10s).balanced());
}

TEST_CASE("requests need a reply stage", "[embed]") {
  weir::PipelineBuilder b("no-replies");
  b.host_input("in");
  b.sink("void", [](const weir::Message&) {}).input("in");
  weir::HostPipeline pipeline(std::move(b));
  CHECK_THROWS_AS(pipeline.input("in").request(weir::Message("?")), std::logic_error);
  CHECK_THROWS_AS(pipeline.input("void"), std::invalid_argument);
  CHECK_THROWS_AS(pipeline.output("in"), std::invalid_argument);
}

TEST_CASE("stop with a deadline forces a pipeline that cannot drain, counting what it abandons", "[embed]") {
  // Nobody reads the output, so the pipeline can never drain: the deadline
  // has to force it whatever the machine's speed.
  weir::PipelineBuilder b("stuck");
  b.host_input("in").capacity(64);
  b.processor("pass", [](weir::Message& m, weir::Emitter& out) { out.emit(std::move(m)); }).input("in").capacity(4);
  b.host_output("unread").input("pass").capacity(1);
  weir::HostPipeline pipeline(std::move(b));
  auto in = pipeline.input("in");
  auto requests_in = in;  // handles are copies of one input
  pipeline.start();
  constexpr int n = 50;
  for (int i = 0; i < n; ++i) REQUIRE(requests_in.send(weir::Message(std::to_string(i))));

  const auto report = pipeline.stop(50ms);
  CHECK(report.status == weir::RunStatus::forced);
  CHECK(total_abandoned(report) > 0);
  // Every message the host sent is accounted for somewhere.
  const auto& source = *report.stage("in");
  const auto& pass = *report.stage("pass");
  const auto& unread = *report.stage("unread");
  CHECK(source.emitted + source.abandoned == n);
  // Abandoned: still queued, or taken by a replica and set aside unhandled
  // when the stop was forced (abandoned_in_hand, also counted as received).
  CHECK(pass.offered + pass.abandoned_in_hand == pass.received + pass.dropped + pass.abandoned);
  CHECK(pass.received == pass.emitted + pass.filtered + pass.failed + pass.dead_lettered + pass.abandoned_in_hand);
  CHECK(unread.offered + unread.abandoned_in_hand == unread.received + unread.abandoned);
  CHECK(unread.received == unread.emitted + unread.failed + unread.abandoned_in_hand);

  // What reached the output is still there to read, then it is closed.
  auto out = pipeline.output("unread");
  std::uint64_t read = 0;
  while (out.recv()) ++read;
  CHECK(read == unread.emitted);
  CHECK(pipeline.stop(1s).status == weir::RunStatus::forced);  // the same report again
}

TEST_CASE("a graceful stop drains everything already sent", "[embed]") {
  std::atomic<int> written{0};
  weir::PipelineBuilder b("drain");
  b.host_input("in").capacity(256);
  b.processor("pass", [](weir::Message& m, weir::Emitter& out) { out.emit(std::move(m)); }).input("in").replicas(2);
  b.sink("count", [&](const weir::Message&) { written.fetch_add(1); }).input("pass");
  weir::HostPipeline pipeline(std::move(b));
  auto in = pipeline.input("in");
  pipeline.start();
  for (int i = 0; i < 200; ++i) REQUIRE(in.send(weir::Message("x")));
  const auto report = pipeline.stop(60s);
  CHECK(report.status == weir::RunStatus::drained);
  CHECK(written.load() == 200);
  CHECK(total_abandoned(report) == 0);
  CHECK(report.balanced());
}

TEST_CASE("destroying a running pipeline returns promptly and leaves no thread and no plugin library", "[embed]") {
  // ThreadSanitizer starts a helper thread of its own at the first thread
  // this process creates; let that happen before counting.
  std::thread([] {}).join();
  const std::size_t threads_before = thread_count();
  const auto libraries_before = plugin_libraries_mapped();
  std::atomic<bool> sender_done{false}, reader_done{false};
  std::thread blocked_sender, blocked_reader;
  {
    // Standard plugins from their libraries, an endless source, a lambda, and
    // host threads parked on both handles.
    auto b = weir::PipelineBuilder::from_string(R"(
pipeline: endless
stages:
  ticks: {plugin: generate, config: {count: 0}}
  tag:   {plugin: set, input: ticks, config: {attributes: {via: set}}}
  out:   {plugin: host_output, input: [tag, fed], capacity: 2}
  fed:   {plugin: host_input, capacity: 1}
)");
    b.processor("slow", [](weir::Message& m, weir::Emitter& out) { out.emit(std::move(m)); }).input("tag");
    b.sink("drop", [](const weir::Message&) {}).input("slow");
    weir::HostPipeline pipeline(std::move(b));
    CHECK(plugin_libraries_mapped().size() > libraries_before.size());
    auto in = pipeline.input("fed");
    auto out = pipeline.output("out");
    pipeline.start();
    REQUIRE(out.recv()->attributes.get("via") == "set");
    blocked_sender = std::thread([in, &sender_done]() mutable {
      while (in.send(weir::Message("push"))) {
      }
      sender_done = true;
    });
    pipeline.scale("slow", 3);
    CHECK(pipeline.replicas("slow") == 3);
    pipeline.scale("slow", 1);
    CHECK(pipeline.stats().status == weir::RunStatus::running);
    // The reader keeps the handle; it must see the end, not hang.
    blocked_reader = std::thread([out, &reader_done]() mutable {
      while (out.recv()) {
      }
      reader_done = true;
    });
  }
  blocked_sender.join();
  blocked_reader.join();
  CHECK(sender_done.load());
  CHECK(reader_done.load());
  CHECK(thread_count() == threads_before);
  // Every library the pipeline loaded is gone (plugins are built with
  // -fno-gnu-unique, so glibc can unload even those that use std::regex).
  for (const std::string& file : plugin_libraries_mapped()) {
    INFO(file << " is still mapped");
    CHECK(libraries_before.count(file) == 1);
  }
}
