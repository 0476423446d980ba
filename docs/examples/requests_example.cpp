// Why a request gets no reply (docs/embedding.md, "Request / reply"): each
// RequestError::Reason, and what a forced stop gives. Built and run by ctest
// (embed:doc-example:requests_example).

#include "expect.hpp"

#include <weir/host.hpp>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string_view>
#include <thread>

int main() {
  // doc:begin reasons
  weir::PipelineBuilder b("reasons");
  b.host_input("in");
  b.processor("judge",
              [](weir::Message& m, weir::Emitter& out, std::stop_token stop) {
                if (m.payload == "drop") return;  // filtered: no copy goes on
                if (m.payload == "fail") throw weir::PermanentError("cannot judge 'fail'");
                if (m.payload == "slow") {  // works until the stop is forced
                  std::mutex mutex;
                  std::condition_variable_any cv;
                  std::unique_lock lock(mutex);
                  cv.wait(lock, stop, [] { return false; });
                  return;
                }
                out.emit(std::move(m));
              })
      .input("in");
  b.host_reply("answers").input("judge").when("payload != \"elsewhere\"");  // "elsewhere" is unrouted
  weir::HostPipeline pipeline(std::move(b));
  weir::InputHandle in = pipeline.input("in");
  pipeline.start();

  auto outcome = [](weir::PendingReply reply) -> const char* {
    try {
      reply.get();
      return "a reply";
    } catch (const weir::RequestError& e) {
      switch (e.reason()) {
        case weir::RequestError::Reason::failed: return "failed";    // a stage failed it for good
        case weir::RequestError::Reason::lost: return "lost";        // every copy ended elsewhere
        case weir::RequestError::Reason::stopped: return "stopped";  // the pipeline stopped first
      }
      return "?";
    }
  };
  const char* fine = outcome(in.request(weir::Message("fine")));            // a reply
  const char* dropped = outcome(in.request(weir::Message("drop")));         // lost (filtered)
  const char* unrouted = outcome(in.request(weir::Message("elsewhere")));   // lost (no consumer took it), at once
  const char* failed = outcome(in.request(weir::Message("fail")));          // failed
  weir::PendingReply slow = in.request(weir::Message("slow"));
  std::thread stopper([&pipeline] { pipeline.force_stop(); });  // a forced stop...
  const char* forced = outcome(std::move(slow));                          // ...gives stopped
  stopper.join();
  const char* late = outcome(in.request(weir::Message("late")));            // stopped: the input is closed
  // doc:end reasons

  std::printf("fine: %s, drop: %s, elsewhere: %s, fail: %s, slow: %s, late: %s\n", fine, dropped, unrouted, failed,
              forced, late);
  example::expect(std::string_view(fine) == "a reply", "fine gets a reply");
  example::expect(std::string_view(dropped) == "lost", "a filtered request is lost");
  example::expect(std::string_view(unrouted) == "lost", "an unrouted request is lost");
  example::expect(std::string_view(failed) == "failed", "a failed request is failed");
  example::expect(std::string_view(forced) == "stopped", "a forced stop gives stopped");
  example::expect(std::string_view(late) == "stopped", "a request after the stop is stopped");
  return example::exit_code();
}
