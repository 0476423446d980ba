// What the loader makes of a good pipeline: keys, defaults, kinds, overrides;
// and the graph checks on a spec built in code.

#include "test_plugins.hpp"

#include <weir/config.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace std::chrono_literals;
using weir::Kind;

namespace {

weir::PipelineSpec load(const std::string& yaml, const std::vector<weir::Override>& overrides = {}) {
  auto registry = weir::test::test_registry();
  return weir::load_pipeline_string(yaml, registry, overrides);
}

std::vector<std::string> problems(const std::string& yaml, const std::vector<weir::Override>& overrides = {}) {
  try {
    load(yaml, overrides);
  } catch (const weir::ConfigError& e) {
    std::vector<std::string> out;
    for (const auto& d : e.diagnostics()) out.push_back(d.to_string());
    return out;
  }
  return {};
}

using Lines = std::vector<std::string>;

const std::string job_queue = R"(pipeline: job-queue
description: Seed job queue
defaults:
  capacity: 1024
  when_full: drop_oldest
  drain_timeout: 5s
stages:
  jobs:
    plugin: generate
    replicas: 3
    config: {count: 100}
  workers:
    plugin: simulate_work
    input: jobs
    replicas: 4
    capacity: 32
    when_full: block
    lanes:
      - {name: urgent, when: 'kind == "report_generate"', capacity: 8}
      - {name: normal}
    on_error: {retries: 3, backoff: 10ms, dead_letter: failed}
  reports:
    plugin: file
    input: workers
    when: 'kind == "report_generate"'
    config: {path: reports.jsonl}
  other:
    plugin: stdout
    input: workers.unmatched
  failed:
    plugin: file
    config: {path: dead-letters.jsonl}
)";

}  // namespace

TEST_CASE("the contract's pipeline loads with every key", "[config][loader]") {
  const weir::PipelineSpec spec = load(job_queue);
  CHECK(spec.name == "job-queue");
  CHECK(spec.description == "Seed job queue");
  CHECK(spec.drain_timeout == 5s);
  REQUIRE(spec.stages.size() == 5);

  const weir::StageSpec& jobs = *spec.stage("jobs");
  CHECK(jobs.kind == Kind::source);
  CHECK(jobs.replicas == 3);
  CHECK(jobs.options.at("count").as_integer() == 100);
  CHECK(jobs.position.line == 8);
  CHECK(jobs.position.column == 3);

  const weir::StageSpec& workers = *spec.stage("workers");
  CHECK(workers.kind == Kind::processor);
  CHECK(workers.replicas == 4);
  CHECK(workers.capacity == 32);
  CHECK(workers.when_full == weir::WhenFull::block);
  REQUIRE(workers.inputs.size() == 1);
  CHECK(workers.inputs[0].stage == "jobs");
  REQUIRE(workers.lanes.size() == 2);
  CHECK(workers.lanes[0].name == "urgent");
  CHECK(workers.lanes[0].capacity == 8);
  REQUIRE(workers.lanes[0].when);
  CHECK(workers.lanes[0].when->text() == "kind == \"report_generate\"");
  CHECK_FALSE(workers.lanes[1].when);
  CHECK(workers.on_error.retries == 3);
  CHECK(workers.on_error.backoff == 10ms);
  CHECK(workers.on_error.dead_letter == "failed");

  const weir::StageSpec& reports = *spec.stage("reports");
  CHECK(reports.kind == Kind::sink);  // `file` is source and sink; someone feeds it, nobody reads it
  CHECK(reports.when_full == weir::WhenFull::drop_oldest);  // from defaults
  CHECK(reports.capacity == 1024);
  REQUIRE(reports.when);
  weir::Message report;
  report.attributes.set("kind", "report_generate");
  CHECK(reports.when->matches(report));
  CHECK(reports.options.at("path").as_string() == "reports.jsonl");

  const weir::StageSpec& other = *spec.stage("other");
  REQUIRE(other.inputs.size() == 1);
  CHECK(other.inputs[0].unmatched);
  CHECK(other.inputs[0].to_string() == "workers.unmatched");

  CHECK(spec.stage("failed")->kind == Kind::sink);  // a dead-letter target, not a source
}

TEST_CASE("kind inference", "[config][loader]") {
  SECTION("file with no input is the source; with an input and no readers, the sink") {
    const auto spec = load("pipeline: p\nstages:\n"
                           "  in: {plugin: file, config: {path: a}}\n"
                           "  out: {plugin: file, input: in, config: {path: b}}\n");
    CHECK(spec.stage("in")->kind == Kind::source);
    CHECK(spec.stage("out")->kind == Kind::sink);
  }
  SECTION("a plugin that exists only as a processor stays one, even at the end") {
    const auto spec = load("pipeline: p\nstages:\n  in: {plugin: generate}\n  last: {plugin: tag, input: in}\n");
    CHECK(spec.stage("last")->kind == Kind::processor);
  }
  SECTION("kind: overrides the graph") {
    const auto spec = load("pipeline: p\nstages:\n  in: {plugin: generate}\n"
                           "  out: {plugin: file, kind: sink, input: in, config: {path: x}}\n");
    CHECK(spec.stage("out")->kind == Kind::sink);
  }
  SECTION("a plugin in only one kind settles it, and the graph check says what is wrong") {
    CHECK(problems("pipeline: p\nstages:\n  in: {plugin: generate}\n  out: {plugin: stdout}\n") ==
          Lines{"<string>:4:3: error: stage 'out': nobody feeds this sink (add input: STAGE, or name it as some "
                "stage's on_error.dead_letter)"});
  }
}

TEST_CASE("defaults apply unless a stage sets its own", "[config][loader]") {
  const auto spec = load("pipeline: p\n"
                         "defaults: {capacity: 64, when_full: drop_newest, lane_policy: weighted,\n"
                         "           on_error: {retries: 2, backoff: 1s, max_backoff: 4s}}\n"
                         "stages:\n"
                         "  in: {plugin: generate}\n"
                         "  a: {plugin: tag, input: in, lanes: [{name: x, when: 'priority > 1'}, {name: y}],\n"
                         "      weights: [3, 1]}\n"
                         "  b: {plugin: stdout, input: a, capacity: 8, lane_policy: strict, on_error: {retries: 5}}\n");
  const auto& a = *spec.stage("a");
  CHECK(a.capacity == 64);
  CHECK(a.when_full == weir::WhenFull::drop_newest);
  CHECK(a.lane_policy == weir::LanePolicy::weighted);
  CHECK(a.lanes[0].weight == 3);
  CHECK(a.lanes[1].weight == 1);
  CHECK(a.on_error.retries == 2);
  CHECK(a.on_error.max_backoff == 4s);
  const auto& b = *spec.stage("b");
  CHECK(b.capacity == 8);
  CHECK(b.lane_policy == weir::LanePolicy::strict);
  CHECK(b.on_error.retries == 5);
  CHECK(b.on_error.backoff == 1s);  // the other on_error keys still come from defaults
}

TEST_CASE("a plugin named null is not a missing value", "[config][loader]") {
  const auto spec = load("pipeline: p\nstages:\n  in: {plugin: generate}\n  a: {plugin: null, input: in}\n"
                         "  b:\n    plugin: null\n    input: in\n");
  CHECK(spec.stage("a")->plugin == "null");
  CHECK(spec.stage("b")->kind == Kind::sink);
  CHECK(problems("pipeline: p\nstages:\n  in: {plugin: generate}\n  out: {plugin: ~, input: in}\n"
                 "  more: {plugin: , input: in}\n") ==
        Lines{"<string>:4:17: error: stage 'out': unknown plugin '~' (`weir plugins` lists them)",
              "<string>:5:18: error: stage 'more': plugin must be a name or text, found nothing"});
}

TEST_CASE("counts: whole numbers with their minimum", "[config][loader]") {
  CHECK(problems("pipeline: p\nstages:\n  in: {plugin: generate, replicas: -1}\n"
                 "  out: {plugin: stdout, input: in, capacity: lots,\n"
                 "        lanes: [{name: a, when: 'priority > 1', capacity: 0}, {name: b, weight: 1.5}]}\n") ==
        Lines{"<string>:3:36: error: stage 'in': replicas must be a whole number of at least 1, found '-1'",
              "<string>:4:46: error: stage 'out': capacity must be a whole number of at least 1, found 'lots'",
              "<string>:5:59: error: stage 'out': lane capacity must be a whole number of at least 1, found '0'",
              "<string>:5:81: error: stage 'out': lane weight must be a whole number of at least 1, found '1.5'"});
}

TEST_CASE("pipeline: and stages: are required", "[config][loader]") {
  CHECK(problems("workers:\n  plugin: simulate_work\n") ==
        Lines{"<string>:1:1: error: unknown key 'workers' in the pipeline (known keys: pipeline, description, "
              "plugin_path, defaults, stages or tests)",
              "<string>:1:1: error: pipeline: is required (name the pipeline, e.g. pipeline: job-queue)",
              "<string>:1:1: error: stages: is required (add a map of stages, each with plugin:)"});
  CHECK(problems("") == Lines{"<string>:1:1: error: a pipeline file is a map with pipeline: and stages: (start with "
                              "`pipeline: NAME` and `stages:`)"});
  CHECK(problems("pipeline: p\nstages: {}\n") ==
        Lines{"<string>:2:9: error: stages: must be a map of stage names to stages (for example stages: {jobs: "
              "{plugin: generate}})"});
}

TEST_CASE("fan-in takes a list of inputs", "[config][loader]") {
  const auto spec = load("pipeline: p\nstages:\n  a: {plugin: generate}\n  b: {plugin: generate}\n"
                         "  out: {plugin: stdout, input: [a, b]}\n");
  REQUIRE(spec.stage("out")->inputs.size() == 2);
  CHECK(spec.stage("out")->inputs[1].stage == "b");
}

TEST_CASE("overrides (--set) are applied before validation", "[config][loader][overrides]") {
  const std::string yaml = "pipeline: p\nstages:\n  jobs: {plugin: generate}\n"
                           "  workers: {plugin: simulate_work, input: jobs}\n  out: {plugin: stdout, input: workers}\n";
  SECTION("parse_override splits path and value") {
    const weir::Override o = weir::parse_override("workers.config.work=5ms");
    CHECK(o.path == "workers.config.work");
    CHECK(o.value == "5ms");
    CHECK(weir::parse_override("a.b=x=y").value == "x=y");
  }
  SECTION("malformed overrides") {
    for (const char* bad : {"workers", "workers=3", ".config=1", "workers..x=1", "workers.=1"}) {
      INFO(bad);
      try {
        weir::parse_override(bad);
        FAIL("accepted");
      } catch (const weir::ConfigError& e) {
        CHECK(e.diagnostics().at(0).to_string() ==
              std::string("--set ") + bad +
                  ": error: expected STAGE.KEY=VALUE or defaults.KEY=VALUE (for example --set "
                  "workers.config.count=10, --set workers.replicas=2 or --set defaults.capacity=64)");
      }
    }
  }
  SECTION("config values, stage keys and flow values") {
    const auto spec = load(yaml, {weir::parse_override("workers.config.work=5ms"),
                                  weir::parse_override("workers.replicas=3"),
                                  weir::parse_override("jobs.config.kinds=[a, b, c]")});
    CHECK(spec.stage("workers")->options.at("work").as_duration() == 5ms);
    CHECK(spec.stage("workers")->replicas == 3);
    CHECK(spec.stage("jobs")->options.at("kinds").as_list().size() == 3);
  }
  SECTION("an override replaces what the file says") {
    const auto spec = load(job_queue, {weir::parse_override("jobs.config.count=7")});
    CHECK(spec.stage("jobs")->options.at("count").as_integer() == 7);
  }
  SECTION("an override's value has the file's limits on nesting") {
    const std::string deep = "jobs.config.kinds=" + std::string(100'000, '[') + std::string(100'000, ']');
    CHECK(problems(yaml, {weir::parse_override(deep)}) ==
          Lines{"--set " + deep + ": error: the value: YAML nested deeper than 64 levels (a pipeline needs a "
                "handful of levels; flatten the value)"});
  }
  SECTION("problems name the override") {
    CHECK(problems(yaml, {weir::parse_override("workrs.config.work=5ms")}) ==
          Lines{"--set workrs.config.work=5ms: error: no stage named 'workrs' (did you mean 'workers'?)"});
    CHECK(problems(yaml, {weir::parse_override("workers.config.wrk=5ms")}) ==
          Lines{"--set workers.config.wrk=5ms: error: stage 'workers': unknown option 'wrk' for processor plugin "
                "'simulate_work' (did you mean 'work'?)"});
    CHECK(problems(yaml, {weir::parse_override("workers.replica=2")}) ==
          Lines{"--set workers.replica=2: error: unknown key 'replica' in stage 'workers' (did you mean 'replicas'?)"});
    CHECK(problems(yaml, {weir::parse_override("workers.replicas=0")}) ==
          Lines{"--set workers.replicas=0: error: stage 'workers': replicas must be at least 1"});
    CHECK(problems(yaml, {weir::parse_override("workers.config.work=[1")}).at(0).rfind(
              "--set workers.config.work=[1: error: the value is not valid YAML: ", 0) == 0);
    CHECK(problems("just text", {weir::parse_override("workers.replicas=2")}) ==
          Lines{"--set workers.replicas=2: error: the pipeline has no stages to override",
                "<string>:1:1: error: a pipeline file is a map with pipeline: and stages: (start with `pipeline: NAME` "
                "and `stages:`)"});
    CHECK(problems(yaml, {weir::parse_override("workers.plugin.x=1")}) ==
          Lines{"--set workers.plugin.x=1: error: 'workers.plugin' leads through a value that is not a map"});
  }
}

TEST_CASE("plugin_path is relative to the file and must exist", "[config][loader]") {
  const auto dir = std::filesystem::temp_directory_path() / "weir-config-test-plugin-path";
  std::filesystem::create_directories(dir / "myplugins");
  const auto file = dir / "p.yaml";
  std::ofstream(file) << "pipeline: p\nplugin_path: [myplugins, missing]\n"
                         "stages:\n  in: {plugin: generate}\n  out: {plugin: stdout, input: in}\n";
  auto registry = weir::test::test_registry();
  try {
    weir::load_pipeline_file(file, registry);
    FAIL("no error");
  } catch (const weir::ConfigError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].to_string() ==
          file.string() + ":2:26: error: plugin_path folder '" + (dir / "missing").string() +
              "' does not exist (plugin_path is relative to the pipeline file)");
  }
  std::ofstream(file) << "pipeline: p\nplugin_path: myplugins\n"
                         "stages:\n  in: {plugin: generate}\n  out: {plugin: stdout, input: in}\n";
  const auto spec = weir::load_pipeline_file(file, registry);
  REQUIRE(spec.plugin_path.size() == 1);
  CHECK(spec.plugin_path[0] == dir / "myplugins");
  CHECK(spec.file == file);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a file that cannot be read", "[config][loader]") {
  auto registry = weir::test::test_registry();
  CHECK_THROWS_WITH(weir::load_pipeline_file("/nonexistent/p.yaml", registry),
                    "/nonexistent/p.yaml: error: cannot read the file: No such file or directory");
}

TEST_CASE("validate_graph checks a spec built in code", "[config][graph]") {
  weir::PipelineSpec spec;
  spec.name = "code";
  weir::StageSpec source;
  source.name = "in";
  source.plugin = "generate";
  source.kind = Kind::source;
  weir::StageSpec sink;
  sink.name = "out";
  sink.plugin = "stdout";
  sink.kind = Kind::sink;
  sink.inputs = {{"in", false}};
  spec.stages = {source, sink};
  CHECK_NOTHROW(weir::validate_graph(spec));

  spec.stages[1].inputs = {{"inn", false}};
  spec.stages[1].replicas = 0;
  spec.stages[1].capacity = 0;
  spec.stages[1].on_error.dead_letter = "dead";
  spec.stages[0].inputs = {{"out", false}};
  try {
    weir::validate_graph(spec);
    FAIL("no error");
  } catch (const weir::ConfigError& e) {
    std::vector<std::string> lines;
    for (const auto& d : e.diagnostics()) lines.push_back(d.to_string());
    CHECK(lines == Lines{"error: stage 'in': input 'out' is a sink, which has no output (read from a source or a processor)",
                         "error: stage 'in': a source takes no input (remove input:, or set kind: processor or sink if "
                         "plugin 'generate' is one)",
                         "error: stage 'out': unknown input 'inn' (did you mean 'in'?)",
                         "error: stage 'out': dead-letter stage 'dead' does not exist",
                         "error: stage 'out': replicas must be at least 1",
                         "error: stage 'out': capacity must be at least 1"});
  }
}

TEST_CASE("cycles are named, also through dead-letter routes", "[config][graph]") {
  CHECK(problems("pipeline: p\nstages:\n  in: {plugin: generate}\n"
                 "  a: {plugin: tag, input: [in, b]}\n  b: {plugin: tag, input: a}\n"
                 "  out: {plugin: stdout, input: b}\n") ==
        Lines{"<string>:4:3: error: cycle: a -> b -> a (a pipeline is a graph without loops; messages could never drain)"});
  CHECK(problems("pipeline: p\nstages:\n  in: {plugin: generate}\n"
                 "  a: {plugin: tag, input: in, on_error: {dead_letter: a}}\n  out: {plugin: stdout, input: a}\n") ==
        Lines{"<string>:4:3: error: cycle: a -> a (a pipeline is a graph without loops; messages could never drain)"});
}

TEST_CASE("lanes: order and weights", "[config][graph]") {
  CHECK(problems("pipeline: p\nstages:\n  in: {plugin: generate}\n"
                 "  out: {plugin: stdout, input: in, lanes: [{name: a}, {name: b}]}\n") ==
        Lines{"<string>:4:44: error: stage 'out': lane 'a' has no when: but is not the last lane; the lanes after it "
              "would never receive anything (only the last lane takes the rest)"});
  CHECK(problems("pipeline: p\nstages:\n  in: {plugin: generate}\n"
                 "  out: {plugin: stdout, input: in, weights: [1]}\n") ==
        Lines{"<string>:4:45: error: stage 'out': weights apply only with lane_policy: weighted (add lane_policy: "
              "weighted)",
              "<string>:4:45: error: stage 'out': 1 weights for 0 lanes (give one weight per lane, in lane order)"});
}

TEST_CASE("replicas: auto and {min, max} size a stage by itself", "[config][loader]") {
  const auto spec = load("pipeline: p\nstages:\n  in: {plugin: generate}\n"
                         "  a: {plugin: simulate_work, input: in, replicas: auto}\n"
                         "  b: {plugin: simulate_work, input: in, replicas: {min: 2, max: 6}}\n"
                         "  out: {plugin: stdout, input: [a, b], replicas: 3}\n");
  REQUIRE(spec.stage("a")->autoscale.has_value());
  CHECK(spec.stage("a")->autoscale->min == 1);
  CHECK(spec.stage("a")->autoscale->max == 8);
  CHECK(spec.stage("a")->replicas == 1);
  CHECK(spec.stage("b")->autoscale->min == 2);
  CHECK(spec.stage("b")->autoscale->max == 6);
  CHECK(spec.stage("b")->replicas == 2);
  CHECK_FALSE(spec.stage("out")->autoscale.has_value());
  CHECK(spec.stage("out")->replicas == 3);
  CHECK(problems("pipeline: p\nstages:\n  in: {plugin: generate, replicas: auto}\n"
                 "  a: {plugin: simulate_work, input: in, replicas: {min: 3}}\n"
                 "  b: {plugin: simulate_work, input: in, replicas: {min: 4, max: 2}}\n"
                 "  c: {plugin: simulate_work, input: in, replicas: {min: 1, most: 2}}\n"
                 "  out: {plugin: stdout, input: [a, b, c], replicas: lots}\n") ==
        Lines{"<string>:3:36: error: stage 'in': a source cannot size itself (it has no input to watch) (give it a "
              "number of replicas)",
              "<string>:4:51: error: stage 'a': replicas needs max: the most replicas it may grow to (for example "
              "replicas: {min: 1, max: 8}, or replicas: auto (1 to 8))",
              "<string>:5:51: error: stage 'b': replicas must go from min 4 to max 2: at least 1, min at most max, max "
              "at most 1024",
              "<string>:6:51: error: stage 'c': replicas needs max: the most replicas it may grow to (for example "
              "replicas: {min: 1, max: 8}, or replicas: auto (1 to 8))",
              "<string>:6:60: error: unknown key 'most' in stage 'c': replicas (known keys: min or max)",
              "<string>:7:53: error: stage 'out': replicas must be a whole number of at least 1, found 'lots'"});
}

TEST_CASE("tests: are read with their positions and checked against the stages", "[config][loader][tests]") {
  const std::string pipeline = R"(pipeline: tested
stages:
  jobs: {plugin: generate}
  workers: {plugin: simulate_work, input: jobs}
  done: {plugin: stdout, input: workers}
tests:
  - name: passes jobs on
    timeout: 2s
    inputs:
      - {insert_at: jobs, payload: 'a', attributes: {kind: email_send}, priority: -3}
      - {insert_at: workers}
    outputs:
      - {extract_from: done, count: 2, conditions: ['kind == "email_send"', 'payload == "a"']}
    no_outputs_from: workers
)";
  const weir::PipelineSpec spec = load(pipeline);
  REQUIRE(spec.tests.size() == 1);
  const weir::PipelineTest& test = spec.tests[0];
  CHECK(test.name == "passes jobs on");
  CHECK(test.timeout == 2s);
  CHECK(test.position.line == 7);
  CHECK(test.position.column == 5);
  REQUIRE(test.inputs.size() == 2);
  CHECK(test.inputs[0].stage == "jobs");
  CHECK(test.inputs[0].payload == "a");
  CHECK(test.inputs[0].attributes.get("kind") == "email_send");
  CHECK(test.inputs[0].priority == -3);
  CHECK(test.inputs[1].stage == "workers");
  CHECK(test.inputs[1].payload.empty());
  REQUIRE(test.outputs.size() == 1);
  CHECK(test.outputs[0].stage == "done");
  CHECK(test.outputs[0].count == 2u);
  REQUIRE(test.outputs[0].conditions.size() == 2);
  CHECK(test.outputs[0].conditions[1].text() == "payload == \"a\"");
  CHECK(test.no_outputs_from == std::vector<std::string>{"workers"});

  CHECK(problems(R"(pipeline: tested
stages:
  jobs: {plugin: generate}
  done: {plugin: stdout, input: jobs}
tests:
  - {name: a, inputs: [{insert_at: jobs}], outputs: [{extract_from: done}]}
  - {name: a, inputs: [{payload: x}], timeout: soon}
  - {inputs: {insert_at: jobs}, no_outputs_from: [nowhere]}
)") == Lines{"<string>:7:5: error: test 'a' expects nothing: give outputs: or no_outputs_from: (for example outputs: "
             "[{extract_from: STAGE, count: 1}])",
             "<string>:7:12: error: two tests are named 'a' (the first at line 6)",
             "<string>:7:24: error: test 'a': an input needs insert_at: (name the stage it enters)",
             "<string>:7:48: error: test 'a': timeout must be a duration, found 'soon' (write it like 250ms, 30s or 2m)",
             "<string>:8:5: error: a test needs a name: (for example name: uppercases payloads)",
             "<string>:8:51: error: a test: no_outputs_from: unknown stage 'nowhere' (the stages are jobs or done)"});
  CHECK(problems("pipeline: p\nstages:\n  jobs: {plugin: generate}\ntests: {}\n") ==
        Lines{"<string>:4:8: error: tests: must be a list of tests, found a map (for example tests: [{name: upper, "
              "inputs: [{insert_at: work, payload: a}], outputs: [{extract_from: work, conditions: ['payload == "
              "\"A\"']}]}])"});
}
