// A host program running two weir pipelines in-process (docs/embedding.md):
//  1. a YAML pipeline made of standard plugins, whose results it reads;
//  2. a pipeline built in code around a lambda, which it feeds, taps with a
//     callback, and asks questions through request/reply.
// It checks what it gets and exits non-zero when something is off.

// doc:begin complete
#include "expect.hpp"

#include <weir/host.hpp>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

using example::expect;

// 1. YAML: generate -> set -> host_output. The host reads `paid` like a queue.
void run_yaml_pipeline() {
  const std::string yaml = R"(
pipeline: orders
stages:
  orders:
    plugin: generate
    config: {count: 10, payload: 'order {seq}'}
  mark:
    plugin: set
    input: orders
    config: {attributes: {status: paid}}
  paid:
    plugin: host_output      # read by the host through pipeline.output("paid")
    input: mark
)";
  // Overrides work as with `weir run --set`.
  weir::HostPipeline pipeline = weir::HostPipeline::load_string(yaml, {weir::parse_override("orders.config.count=3")});
  weir::OutputHandle paid = pipeline.output("paid");
  pipeline.start();

  int read = 0;
  while (std::optional<weir::Message> m = paid.recv()) {  // nullopt once the run has drained
    std::cout << "yaml: " << m->payload << " status=" << m->attributes.get("status") << "\n";
    expect(m->attributes.get("status") == "paid", "the set stage marked every order");
    ++read;
  }
  const weir::RunReport report = pipeline.wait();
  std::cout << "yaml: " << weir::to_string(report.status) << ", " << read << " orders\n";
  expect(report.status == weir::RunStatus::drained && read == 3, "three orders, drained");
}

// 2. In code: host_input -> lambda -> host_reply, with a callback sink on the side.
void run_code_pipeline() {
  std::atomic<int> logged{0};

  weir::PipelineBuilder b("shout");
  b.host_input("questions").capacity(64);
  b.processor("answer",
              [](weir::Message& m, weir::Emitter& out) {  // runs on 2 replica threads
                for (char& c : m.payload) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                m.payload += "!";
                out.emit(std::move(m));  // the same message: it keeps the request's attributes
              })
      .input("questions")
      .replicas(2);
  b.host_reply("answers").input("answer");
  b.sink("log", [&logged](const weir::Message&) { logged.fetch_add(1); })  // a callback on replica threads
      .input("answer");

  weir::HostPipeline pipeline(std::move(b));
  weir::InputHandle questions = pipeline.input("questions");
  pipeline.start();

  // Fire and forget: the answers still go to `log` (and to `answers`, which
  // ignores messages that are not requests).
  for (int i = 0; i < 5; ++i) questions.send(weir::Message("note " + std::to_string(i)));

  // Request / reply, from a few threads at once.
  std::vector<std::thread> askers;
  std::atomic<int> answered{0};
  for (int t = 0; t < 3; ++t)
    askers.emplace_back([&questions, &answered, t] {
      const std::string question = "hello from thread " + std::to_string(t);
      weir::PendingReply reply = questions.request(weir::Message(question));
      try {
        if (std::optional<weir::Message> answer = reply.get_for(10s)) {
          std::printf("code: %s -> %s\n", question.c_str(), answer->payload.c_str());
          if (answer->payload == "HELLO FROM THREAD " + std::to_string(t) + "!") answered.fetch_add(1);
        } else {
          std::printf("code: %s -> no answer within 10s\n", question.c_str());
        }
      } catch (const weir::RequestError& e) {
        std::printf("code: %s -> error: %s\n", question.c_str(), e.what());
      }
    });
  for (std::thread& t : askers) t.join();

  const weir::RunReport report = pipeline.stop(5s);  // close, drain, forced after 5s
  std::cout << "code: " << weir::to_string(report.status) << ", " << answered.load() << " answers, "
            << logged.load() << " logged\n";
  expect(answered.load() == 3, "every question answered");
  expect(logged.load() == 8, "five notes and three questions logged");
  expect(report.status == weir::RunStatus::drained, "the in-code pipeline drained");
}

}  // namespace

int main() {
  try {
    run_yaml_pipeline();
    run_code_pipeline();
  } catch (const weir::ConfigError& e) {  // the same diagnostics as `weir validate`
    for (const weir::Diagnostic& d : e.diagnostics()) std::cerr << d.to_string() << "\n";
    return 2;
  } catch (const weir::PluginError& e) {  // a plugin that cannot load or start
    std::cerr << e.what() << "\n";
    return 2;
  }
  return example::exit_code();
}
// doc:end complete
