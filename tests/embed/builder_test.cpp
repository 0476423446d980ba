// PipelineBuilder: plugin stages with YAML or typed options, object stages,
// YAML with overrides extended in code, and the errors a host program sees.

#include <weir/host.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <string>

using namespace std::chrono_literals;

namespace {

std::string all_diagnostics(const weir::ConfigError& e) {
  std::string out;
  for (const auto& d : e.diagnostics()) out += d.to_string() + "\n";
  return out;
}

// An object stage with per-replica state, told its replica by the context.
class Numbered final : public weir::Processor {
 public:
  Numbered(const weir::StageContext& context, std::string prefix)
      : prefix_(std::move(prefix)), replica_(context.replica) {}
  void process(weir::Message& m, weir::Emitter& out) override {
    m.attributes.set("by", prefix_ + std::to_string(replica_));
    m.attributes.set("nth", std::to_string(++handled_));
    out.emit(std::move(m));
  }

 private:
  std::string prefix_;
  unsigned replica_;
  int handled_ = 0;  // one object per replica: no sharing
};

}  // namespace

TEST_CASE("plugin stages take their config as YAML text or typed options", "[embed]") {
  std::atomic<int> tagged{0};
  weir::PipelineBuilder b("mixed");
  b.plugin("ticks", "generate", "{count: 30, payload: 'tick {seq}'}");
  b.plugin("tag", "set",
           weir::Options({{"attributes", weir::Value::of_map({{"color", weir::Value::of_string("blue")}})}}))
      .input("ticks");
  b.stage<Numbered>("number", std::string("r")).input("tag").replicas(2);
  b.sink("check",
         [&](const weir::Message& m) {
           if (m.attributes.get("color") == "blue" && m.attributes.get("by").starts_with("r") &&
               m.payload.starts_with("tick "))
             tagged.fetch_add(1);
         })
      .input("number");
  weir::HostPipeline pipeline(std::move(b));
  pipeline.start();
  const auto report = pipeline.wait();
  CHECK(report.status == weir::RunStatus::drained);
  CHECK(tagged.load() == 30);
  CHECK(report.stage("ticks")->plugin == "generate");
  CHECK(report.stage("number")->replicas == 2);
}

TEST_CASE("a YAML pipeline with overrides is extended in code and fed by the host", "[embed]") {
  const std::string yaml = R"(
pipeline: orders
stages:
  orders: {plugin: host_input, capacity: 16}
  mark:   {plugin: set, input: orders, config: {attributes: {seen: 'no'}}}
  answers: {plugin: host_reply, input: mark}
)";
  auto b = weir::PipelineBuilder::from_string(yaml, {weir::parse_override("mark.config.attributes={seen: yes}")});
  std::atomic<int> tapped{0};
  b.sink("tap", [&](const weir::Message&) { tapped.fetch_add(1); }).input("mark");
  weir::HostPipeline pipeline(std::move(b));
  auto in = pipeline.input("orders");
  pipeline.start();
  for (int i = 0; i < 20; ++i) {
    auto reply = in.request(weir::Message("order " + std::to_string(i)));
    const weir::Message answer = reply.get();
    CHECK(answer.payload == "order " + std::to_string(i));
    CHECK(answer.attributes.get("seen") == "yes");
    CHECK(answer.attributes.get(weir::request_attribute) == std::to_string(reply.id()));
  }
  in.close();
  const auto report = pipeline.wait();
  CHECK(report.status == weir::RunStatus::drained);
  CHECK(tapped.load() == 20);
}

TEST_CASE("HostPipeline::load_string is the one-line way to a YAML pipeline", "[embed]") {
  auto pipeline = weir::HostPipeline::load_string(R"(
pipeline: tiny
stages:
  ticks: {plugin: generate, config: {count: 5}}
  out:   {plugin: host_output, input: ticks}
)");
  auto out = pipeline.output("out");
  pipeline.start();
  int n = 0;
  while (out.recv()) ++n;
  CHECK(n == 5);
  CHECK(pipeline.wait().status == weir::RunStatus::drained);
}

TEST_CASE("every problem of a pipeline built in code comes at once, like weir validate", "[embed]") {
  weir::PipelineBuilder b("broken");
  b.plugin("ticks", "generate", "{cuont: 3}");
  b.plugin("oops", "no_such_plugin").input("ticks");
  b.processor("p", [](weir::Message&, weir::Emitter&) {}).input("ghost").when("kind ==");
  b.sink("s", [](const weir::Message&) {}).input("p");
  try {
    weir::HostPipeline pipeline(std::move(b));
    FAIL("built a broken pipeline");
  } catch (const weir::ConfigError& e) {
    const std::string text = all_diagnostics(e);
    INFO(text);
    CHECK(e.diagnostics().size() >= 4);
    CHECK_THAT(text, Catch::Contains("<stage 'ticks' config>") && Catch::Contains("cuont") &&
                         Catch::Contains("did you mean 'count'"));
    CHECK_THAT(text, Catch::Contains("no_such_plugin"));
    CHECK_THAT(text, Catch::Contains("stage 'p': when"));
    CHECK_THAT(text, Catch::Contains("ghost"));
  }
}

TEST_CASE("an input is read by the YAML loader's rule: only '.unmatched' may follow a stage name", "[embed]") {
  weir::PipelineBuilder b("inputs");
  b.source("a", [](weir::Emitter&, std::stop_token) {});
  b.processor("p", [](weir::Message&, weir::Emitter&) {}).when("kind == \"x\"").input("a");
  b.sink("rest", [](const weir::Message&) {}).input("a.unmatched");
  b.sink("typo", [](const weir::Message&) {}).input("a.unmached");
  CHECK(b.stage("rest").spec().inputs[0].to_string() == "a.unmatched");
  CHECK(b.stage("typo").spec().inputs[0].to_string() == "a.unmatched");  // as most likely meant
  try {
    b.build();
    FAIL("built a pipeline with a misspelt input");
  } catch (const weir::ConfigError& e) {
    const std::string text = all_diagnostics(e);
    INFO(text);
    CHECK_THAT(text, Catch::Contains("stage 'typo': input 'a.unmached': only '.unmatched' may follow a stage name "
                                     "(did you mean 'unmatched'?)"));
  }
}

TEST_CASE("YAML problems keep their file positions, a host_input keeps one replica", "[embed]") {
  try {
    weir::HostPipeline pipeline(weir::PipelineBuilder::from_string(R"(
pipeline: p
stages:
  in:  {plugin: host_input, replicas: 3}
  out: {plugin: host_output, input: in}
)",
                                                                   {}, "inline.yaml"));
    FAIL("three replicas of a host_input were accepted");
  } catch (const weir::ConfigError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].message == "stage 'in': a host_input stage runs one replica, not 3");
    CHECK(e.diagnostics()[0].line == 4);
  }
  try {
    weir::PipelineBuilder::from_string("pipeline: p\nstages:\n  a: {plugin: generate, config: {count: -1}}\n", {},
                                       "neg.yaml");
    FAIL("a negative count was accepted");
  } catch (const weir::ConfigError& e) {
    REQUIRE_FALSE(e.diagnostics().empty());
    CHECK(e.diagnostics()[0].file == "neg.yaml");
    CHECK(e.diagnostics()[0].line == 3);
  }
}

TEST_CASE("a host_input stage cannot be scaled, other stages can", "[embed]") {
  weir::PipelineBuilder b("scaled");
  b.host_input("in");
  b.processor("p", [](weir::Message& m, weir::Emitter& out) { out.emit(std::move(m)); }).input("in");
  b.sink("s", [](const weir::Message&) {}).input("p");
  weir::HostPipeline pipeline(std::move(b));
  pipeline.start();
  CHECK_THROWS_AS(pipeline.scale("in", 2), std::invalid_argument);
  pipeline.scale("p", 4);
  CHECK(pipeline.replicas("p") == 4);
  auto in = pipeline.input("in");
  for (int i = 0; i < 100; ++i) REQUIRE(in.send(weir::Message("x")));
  pipeline.scale("p", 1);
  const auto report = pipeline.stop(60s);
  CHECK(report.status == weir::RunStatus::drained);
  CHECK(report.stage("s")->emitted == 100);
}

TEST_CASE("a plugin's own checks and the warnings come from the builder as from weir validate", "[embed]") {
  // The standard filter's constructor finds the bad condition inside its
  // option, at the column inside the config text.
  weir::PipelineBuilder b("checked");
  b.plugin("ticks", "generate", "{count: 3}");
  b.plugin("errors", "filter", "{when: 'level = \"error\"'}").input("ticks");
  b.plugin("out", "null").input("errors");
  try {
    b.build();
    FAIL("a filter with a bad condition was accepted");
  } catch (const weir::ConfigError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].to_string() ==
          "<stage 'errors' config>:1:15: error: stage 'errors': option 'when': '=' is not an operator (use '==' to "
          "compare)");
  }

  // What only warns: the pipeline builds, and the spec carries the warnings.
  weir::PipelineBuilder w("warned");
  w.plugin("ticks", "generate", "{count: 3}");
  w.plugin("reports", "null").input("ticks").when("\"kind\" == \"report\"");
  const weir::PipelineSpec& spec = w.build();
  REQUIRE(spec.warnings.size() == 2);
  CHECK(spec.warnings[0].severity == weir::Severity::warning);
  CHECK_THAT(spec.warnings[0].message, Catch::Contains("stage 'ticks': every stage that reads it has a when:"));
  CHECK(spec.warnings[1].message ==
        "stage 'reports': when: the condition is never true: it reads nothing of the message");
}
