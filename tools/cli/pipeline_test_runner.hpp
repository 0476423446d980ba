#pragma once
// Runs one test of a pipeline (`tests:`, docs/pipelines.md#tests) in this
// process: the processors are the real plugins; the sources are replaced by
// stages that emit the test's inputs, the sinks by collectors, and a
// collector is added after every other stage the test looks at.

#include <weir/message.hpp>
#include <weir/registry.hpp>
#include <weir/report.hpp>
#include <weir/spec.hpp>

#include <map>
#include <string>
#include <vector>

namespace weir::cli {

// One expectation of a test, met or not, in words.
struct TestCheck {
  bool met = false;
  std::string stage;  // the stage it is about; empty for the run as a whole
  std::string text;
};

struct TestResult {
  bool passed = false;
  std::vector<TestCheck> checks;
  // What each stage the test looks at emitted (a sink: received), in arrival order.
  std::map<std::string, std::vector<Message>> arrived;
  RunReport report;
};

TestResult run_pipeline_test(const PipelineSpec& spec, const PipelineTest& test, PluginRegistry& registry);

// {"payload": "...", "attributes": {...}} (and "priority" when not 0), one line.
std::string message_line(const Message& message);

}  // namespace weir::cli
