// `weir test FILE [--tests FILE2]... [--set k=v]... [--plugin-path DIR]...`:
// the pipeline's unit tests (its `tests:`, and those of --tests files), run
// in this process with the real processors and without the real sources and
// sinks. Prints what each test checked; exit 0 when all pass, 1 when one
// fails, 2 when a file is invalid or there are no tests (docs/pipelines.md#tests).

#include "command.hpp"
#include "pipeline_arguments.hpp"
#include "pipeline_test_runner.hpp"

#include <weir/config.hpp>

#include <fmt/format.h>

#include <iostream>
#include <memory>

namespace weir::cli {

namespace {

struct TestOptions {
  PipelineArguments pipeline;
  std::vector<std::string> tests_files;
};

// At most this many of the messages that reached a stage are shown under a failure.
constexpr std::size_t shown_messages = 10;

std::string place(const PipelineTest& test) {
  return fmt::format("{}:{}:{}", test.file.string(), test.position.line, test.position.column);
}

void print(const PipelineTest& test, const TestResult& result) {
  std::cout << fmt::format("test '{}': {}\n", test.name, result.passed ? "passed" : "FAILED at " + place(test));
  std::set<std::string> failed_stages;
  for (const TestCheck& check : result.checks) {
    std::cout << fmt::format("  {} {}\n", check.met ? "ok  " : "FAIL", printable(check.text));
    if (!check.met && !check.stage.empty()) failed_stages.insert(check.stage);
  }
  for (const std::string& stage : failed_stages) {
    const auto found = result.arrived.find(stage);
    const std::size_t count = found == result.arrived.end() ? 0 : found->second.size();
    std::cout << fmt::format("  arrived at '{}': {}\n", stage, count == 0 ? std::string("nothing") : std::to_string(count));
    for (std::size_t i = 0; i < count && i < shown_messages; ++i)
      std::cout << "    " << message_line(found->second[i]) << '\n';
    if (count > shown_messages) std::cout << fmt::format("    ... and {} more\n", count - shown_messages);
  }
  if (!result.passed)
    for (const std::string& error : result.report.errors) std::cout << "  run error: " << printable(error) << '\n';
}

int test(const TestOptions& options) {
  PluginRegistry registry;
  PipelineSpec spec = options.pipeline.load(registry);
  for (const Diagnostic& warning : spec.warnings) std::cerr << warning.to_string() << '\n';
  std::vector<PipelineTest> tests = spec.tests;
  for (const std::string& file : options.tests_files) {
    std::vector<PipelineTest> more = load_pipeline_tests(file, spec);
    tests.insert(tests.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  if (tests.empty()) {
    std::cerr << fmt::format("{}: error: no tests: add tests: to the pipeline, or give --tests FILE\n",
                             options.pipeline.file);
    return exit_bad_input;
  }
  std::size_t failed = 0;
  for (const PipelineTest& test : tests) {
    const TestResult result = run_pipeline_test(spec, test, registry);
    print(test, result);
    failed += !result.passed;
  }
  std::cout << fmt::format("{}: {} test{}, {} passed, {} failed\n", options.pipeline.file, tests.size(),
                           tests.size() == 1 ? "" : "s", tests.size() - failed, failed);
  return failed > 0 ? exit_failed_run : exit_ok;
}

std::pair<CLI::App*, Runner> setup(CLI::App& app) {
  auto options = std::make_shared<TestOptions>();
  CLI::App* command = app.add_subcommand(
      "test", "Run a pipeline's unit tests (its tests:, or --tests FILE) in-process, without its sources and sinks");
  options->pipeline.add_to(*command);
  command->add_option("--tests", options->tests_files, "Also run the tests of FILE (a map with tests:; repeatable)")
      ->check(CLI::ExistingFile);
  return {command, [options] { return test(*options); }};
}

const Registrar registrar{25, &setup};

}  // namespace

}  // namespace weir::cli
