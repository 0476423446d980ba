// Plugin options against their schemas, through the same loader a pipeline
// file goes through.

#include "test_plugins.hpp"

#include <weir/config.hpp>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;

namespace {

// `jobs` (generate) → `workers` (simulate_work, with `config`) → `out` (stdout).
std::string pipeline_with_work_config(const std::string& config) {
  return "pipeline: p\n"
         "stages:\n"
         "  jobs: {plugin: generate}\n"
         "  workers:\n"
         "    plugin: simulate_work\n"
         "    input: jobs\n"
         "    config: " + config + "\n"
         "  out: {plugin: stdout, input: workers}\n";
}

weir::Options work_options(const std::string& config) {
  auto registry = weir::test::test_registry();
  return weir::load_pipeline_string(pipeline_with_work_config(config), registry).stage("workers")->options;
}

// Every diagnostic, as `LINE:COL: error: message (hint)` (the name is "<string>").
std::vector<std::string> problems(const std::string& config) {
  auto registry = weir::test::test_registry();
  try {
    weir::load_pipeline_string(pipeline_with_work_config(config), registry);
  } catch (const weir::ConfigError& e) {
    std::vector<std::string> out;
    for (const auto& d : e.diagnostics()) out.push_back(d.to_string().substr(std::string("<string>:").size()));
    return out;
  }
  return {};
}

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("defaults fill in every option that has one", "[config][options]") {
  const weir::Options options = work_options("{}");
  CHECK(options.at("work").as_duration() == 10ms);
  CHECK(options.at("mode").as_string() == "sleep");
  CHECK(options.at("ratio").as_number() == 1.0);
  CHECK(options.at("fail").as_bool() == false);
  CHECK_FALSE(options.has("per_kind"));  // no default, not required
}

TEST_CASE("each type converts to its typed value", "[config][options]") {
  const weir::Options options =
      work_options("{work: 45s, mode: spin, ratio: 0.25, fail: yes, per_kind: {email: 5ms, report: 1s}, "
                   "retry_codes: [500, 503]}");
  CHECK(options.at("work").as_duration() == 45s);
  CHECK(options.at("mode").as_string() == "spin");
  CHECK(options.at("ratio").as_number() == 0.25);
  CHECK(options.at("fail").as_bool());
  const auto& per_kind = options.at("per_kind").as_map();
  REQUIRE(per_kind.size() == 2);
  CHECK(per_kind[0].first == "email");
  CHECK(per_kind[0].second.as_duration() == 5ms);
  CHECK(per_kind[1].second.as_duration() == 1s);
  REQUIRE(options.at("retry_codes").as_list().size() == 2);
  CHECK(options.at("retry_codes").as_list()[1].as_integer() == 503);
}

TEST_CASE("integers", "[config][options]") {
  auto registry = weir::test::test_registry();
  const auto spec = weir::load_pipeline_string(
      "pipeline: p\nstages:\n  jobs: {plugin: generate, config: {count: 7}}\n  out: {plugin: stdout, input: jobs}\n",
      registry);
  CHECK(spec.stage("jobs")->options.at("count").as_integer() == 7);
  const weir::Option<std::vector<std::string>> kinds{.name = "kinds", .description = "kind attribute values"};
  CHECK(spec.stage("jobs")->options[kinds] == std::vector<std::string>{"email_send", "image_resize"});
}

TEST_CASE("wrong types say what was found and what is right, at the value", "[config][options]") {
  CHECK(problems("{work: fast}") ==
        Lines{"7:20: error: stage 'workers': option 'work': expected a duration, found 'fast' (a duration such as 250ms, 30s or 2m)"});
  CHECK(problems("{ratio: half}") ==
        Lines{"7:21: error: stage 'workers': option 'ratio': expected a number, found 'half' (a number such as 0.5)"});
  CHECK(problems("{fail: maybe}") ==
        Lines{"7:20: error: stage 'workers': option 'fail': expected a boolean, found 'maybe' (true or false)"});
  CHECK(problems("{work: [1s]}") == Lines{"7:20: error: stage 'workers': option 'work': expected a duration, found a "
                                          "list (a duration such as 250ms, 30s or 2m)"});
  CHECK(problems("{per_kind: [a]}") ==
        Lines{"7:24: error: stage 'workers': option 'per_kind': expected a map, found a list (a map such as {key: value})"});
  CHECK(problems("{per_kind: fast}") ==
        Lines{"7:24: error: stage 'workers': option 'per_kind': expected a map, found 'fast' (a map such as {key: value})"});
  CHECK(problems("{retry_codes: 500}") ==
        Lines{"7:27: error: stage 'workers': option 'retry_codes': expected a list, found '500' (a list such as [a, b])"});
  CHECK(problems("{work: }") == Lines{"7:20: error: stage 'workers': option 'work' has no value"});
}

TEST_CASE("list elements and map values are checked one by one", "[config][options]") {
  CHECK(problems("{retry_codes: [500, x, 700]}") ==
        Lines{"7:33: error: stage 'workers': option 'retry_codes[1]': expected an integer, found 'x' (a whole number such as 10)",
              "7:36: error: stage 'workers': option 'retry_codes[2]': 700 is above the maximum (use at most 599)"});
  CHECK(problems("{per_kind: {email: 5ms, report: soon}}") ==
        Lines{"7:45: error: stage 'workers': option 'per_kind.report': expected a duration, found 'soon' (a duration such as 250ms, 30s or 2m)"});
}

TEST_CASE("ranges on numbers and durations", "[config][options]") {
  CHECK(problems("{ratio: 1.5}") == Lines{"7:21: error: stage 'workers': option 'ratio': 1.5 is above the maximum (use at most 1)"});
  CHECK(problems("{ratio: -0.5}") == Lines{"7:21: error: stage 'workers': option 'ratio': -0.5 is below the minimum (use at least 0)"});
  CHECK(problems("{work: 2h}") == Lines{"7:20: error: stage 'workers': option 'work': 2h is above the maximum (use at most 1m)"});
  CHECK(work_options("{work: 1m}").at("work").as_duration() == 1min);
}

TEST_CASE("enumerations list their values and suggest the closest", "[config][options]") {
  CHECK(problems("{mode: spinn}") ==
        Lines{"7:20: error: stage 'workers': option 'mode': 'spinn' is not one of sleep or spin (did you mean 'spin'?)"});
  CHECK(problems("{mode: busy}") ==
        Lines{"7:20: error: stage 'workers': option 'mode': 'busy' is not one of sleep or spin (use sleep or spin)"});
}

TEST_CASE("unknown options suggest the closest or list them all", "[config][options]") {
  CHECK(problems("{wrok: 1s}") ==
        Lines{"7:14: error: stage 'workers': unknown option 'wrok' for processor plugin 'simulate_work' (did you mean "
              "'work'?)"});
  CHECK(problems("{speed: 1}") ==
        Lines{"7:14: error: stage 'workers': unknown option 'speed' for processor plugin 'simulate_work' (its options "
              "are work, mode, ratio, fail, per_kind or retry_codes)"});
}

TEST_CASE("config must be a map", "[config][options]") {
  CHECK(problems("[1, 2]") ==
        Lines{"7:13: error: stage 'workers': config must be a map of options (for example config: {key: value})"});
}

TEST_CASE("a missing required option is reported at config:", "[config][options]") {
  auto registry = weir::test::test_registry();
  try {
    weir::load_pipeline_string("pipeline: p\nstages:\n  jobs: {plugin: generate}\n"
                               "  out:\n    plugin: file\n    input: jobs\n",
                               registry);
    FAIL("no error");
  } catch (const weir::ConfigError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].to_string() ==
          "<string>:4:3: error: stage 'out': missing required option 'path' of sink plugin 'file' (add config: {path: "
          "out.jsonl})");
  }
}
