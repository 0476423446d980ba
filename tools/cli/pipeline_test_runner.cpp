#include "pipeline_test_runner.hpp"

#include <weir/pipeline.hpp>
#include <weir/plugin.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <mutex>
#include <set>

namespace weir::cli {

namespace {

// Stage names that cannot clash with the pipeline's own: a YAML stage name
// may not contain '.', these may not come from YAML for that reason.
std::string inserter_name(const std::string& stage) { return "test.insert." + stage; }
std::string collector_name(const std::string& stage) { return "test.extract." + stage; }

// Emits the test's messages for one stage, in the order written, then ends.
class TestInputSource final : public Source {
 public:
  explicit TestInputSource(std::vector<Message> messages) : messages_(std::move(messages)) {}
  void run(Emitter& out, std::stop_token stop) override {
    for (const Message& message : messages_)
      if (stop.stop_requested() || !out.emit(message)) return;
  }

 private:
  std::vector<Message> messages_;
};

struct Arrivals {
  std::mutex mutex;
  std::map<std::string, std::vector<Message>> by_stage;
};

// Keeps every message that reaches it, under the name of the stage looked at.
class TestCollector final : public Sink {
 public:
  TestCollector(std::shared_ptr<Arrivals> arrivals, std::string stage)
      : arrivals_(std::move(arrivals)), stage_(std::move(stage)) {}
  void write(const Message& message) override {
    std::lock_guard lock(arrivals_->mutex);
    arrivals_->by_stage[stage_].push_back(message);
  }

 private:
  std::shared_ptr<Arrivals> arrivals_;
  std::string stage_;
};

StageMaker input_factory(std::vector<Message> messages) {
  return [messages = std::move(messages)](const StageContext&) { return std::make_unique<TestInputSource>(messages); };
}

StageMaker collector_factory(std::shared_ptr<Arrivals> arrivals, std::string stage) {
  return [arrivals = std::move(arrivals), stage = std::move(stage)](const StageContext&) {
    return std::make_unique<TestCollector>(arrivals, stage);
  };
}

// The pipeline a test runs: sources and sinks replaced, inserters and
// collectors added where the test inserts into and looks at processors.
PipelineSpec test_pipeline(const PipelineSpec& original, const PipelineTest& test, const std::shared_ptr<Arrivals>& arrivals) {
  PipelineSpec spec = original;
  spec.tests.clear();
  spec.warnings.clear();
  std::map<std::string, std::vector<Message>> inserts;
  for (const TestInput& input : test.inputs) {
    Message message(input.payload);
    message.attributes = input.attributes;
    message.priority = input.priority;
    inserts[input.stage].push_back(std::move(message));
  }
  std::set<std::string> looked_at;
  for (const TestOutput& output : test.outputs) looked_at.insert(output.stage);
  for (const std::string& stage : test.no_outputs_from) looked_at.insert(stage);

  std::vector<StageSpec> added;
  for (StageSpec& stage : spec.stages) {
    if (stage.kind == Kind::source) {
      stage.plugin = "test_input";
      stage.replicas = 1;
      stage.factory = input_factory(std::move(inserts[stage.name]));
      inserts.erase(stage.name);
    } else if (stage.kind == Kind::sink) {
      stage.plugin = "test_collector";
      stage.replicas = 1;
      stage.factory = collector_factory(arrivals, stage.name);
      looked_at.erase(stage.name);
    }
  }
  for (auto& [name, messages] : inserts) {
    StageSpec inserter;
    inserter.name = inserter_name(name);
    inserter.plugin = "test_input";
    inserter.kind = Kind::source;
    inserter.factory = input_factory(std::move(messages));
    added.push_back(std::move(inserter));
    for (StageSpec& stage : spec.stages)
      if (stage.name == name) stage.inputs.push_back(InputRef{inserter_name(name), false});
  }
  for (const std::string& name : looked_at) {
    StageSpec collector;
    collector.name = collector_name(name);
    collector.plugin = "test_collector";
    collector.kind = Kind::sink;
    collector.inputs.push_back(InputRef{name, false});
    collector.factory = collector_factory(arrivals, name);
    added.push_back(std::move(collector));
  }
  for (StageSpec& stage : added) spec.stages.push_back(std::move(stage));
  return spec;
}

std::string messages_word(std::size_t n) { return fmt::format("{} message{}", n, n == 1 ? "" : "s"); }

std::string duration_text(std::chrono::nanoseconds d) {
  return fmt::format("{:g}s", std::chrono::duration<double>(d).count());
}

void check_output(const TestOutput& output, const std::vector<Message>& arrived, std::vector<TestCheck>& checks) {
  const std::string& stage = output.stage;
  if (output.count) {
    const bool met = arrived.size() == *output.count;
    checks.push_back({met, stage,
                      met ? fmt::format("'{}': {} arrived, as expected", stage, messages_word(arrived.size()))
                          : fmt::format("'{}': expected {}, {} arrived", stage, messages_word(*output.count),
                                        arrived.size())});
  } else if (arrived.empty()) {
    checks.push_back({false, stage, fmt::format("'{}': expected at least one message, none arrived", stage)});
  }
  for (const Condition& condition : output.conditions) {
    std::size_t misses = 0;
    std::string first_miss;
    for (std::size_t i = 0; i < arrived.size(); ++i)
      if (!condition.matches(arrived[i])) {
        if (misses++ == 0) first_miss = fmt::format("message {} of {}: {}", i + 1, arrived.size(), message_line(arrived[i]));
      }
    if (misses == 0)
      checks.push_back({!arrived.empty() || output.count == 0u, stage,
                        fmt::format("'{}': {} met '{}'", stage,
                                    arrived.size() == 1 ? std::string("the message") : "all " + messages_word(arrived.size()),
                                    condition.text())});
    else
      checks.push_back({false, stage,
                        fmt::format("'{}': {} of {} did not meet '{}'; the first, {}", stage, misses,
                                    messages_word(arrived.size()), condition.text(), first_miss)});
  }
}

}  // namespace

std::string message_line(const Message& message) {
  nlohmann::ordered_json line;
  line["payload"] = message.payload;
  nlohmann::ordered_json attributes = nlohmann::ordered_json::object();
  for (const auto& [key, value] : message.attributes) attributes[key] = value;
  line["attributes"] = std::move(attributes);
  if (message.priority != 0) line["priority"] = message.priority;
  return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

TestResult run_pipeline_test(const PipelineSpec& spec, const PipelineTest& test, PluginRegistry& registry) {
  auto arrivals = std::make_shared<Arrivals>();
  TestResult result;
  {
    Pipeline pipeline(test_pipeline(spec, test, arrivals), registry);
    pipeline.start();
    // Bounded: a pipeline that does not drain in time (a processor that
    // never returns, a message held forever) fails the test.
    const bool drained = pipeline.wait_for(test.timeout);
    if (!drained) pipeline.force_stop();
    result.report = pipeline.wait();
    if (!drained)
      result.checks.push_back({false, {},
                               fmt::format("the pipeline did not drain within the timeout ({}); stopped it",
                                           duration_text(test.timeout))});
  }
  {
    std::lock_guard lock(arrivals->mutex);
    result.arrived = std::move(arrivals->by_stage);
  }
  for (const TestOutput& output : test.outputs) check_output(output, result.arrived[output.stage], result.checks);
  for (const std::string& stage : test.no_outputs_from) {
    const std::vector<Message>& arrived = result.arrived[stage];
    result.checks.push_back({arrived.empty(), stage,
                             arrived.empty() ? fmt::format("'{}': no output, as expected", stage)
                                             : fmt::format("'{}': expected no output, {} arrived", stage,
                                                           messages_word(arrived.size()))});
  }
  for (const StageReport& stage : result.report.stages)
    if (stage.failed > 0)
      result.checks.push_back({true, {},
                               fmt::format("note: stage '{}' failed {}", stage.name, messages_word(stage.failed))});
  if (!result.report.balanced())
    result.checks.push_back({false, {}, "the run's books do not balance: a message is unaccounted for"});
  result.passed = std::all_of(result.checks.begin(), result.checks.end(), [](const TestCheck& c) { return c.met; });
  return result;
}

}  // namespace weir::cli
