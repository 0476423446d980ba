// `${NAME}` and `${NAME:-default}` in pipeline values: the substitution on its
// own, then through the loader (typing after substitution, positions, --set).

#include "config/environment.hpp"
#include "test_plugins.hpp"

#include <weir/config.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>

using weir::config::interpolate;
using weir::config::InterpolationProblem;

namespace {

std::string substitute(std::string_view text, std::vector<InterpolationProblem>& problems) {
  static const std::map<std::string, std::string> environment{{"HOST", "db.local"}, {"EMPTY", ""}, {"PORT", "5432"},
                                                              {"NESTED", "${HOST}"}};
  return interpolate(
      text,
      [](const std::string& name) -> std::optional<std::string> {
        auto it = environment.find(name);
        return it == environment.end() ? std::nullopt : std::optional(it->second);
      },
      problems);
}

std::string substitute(std::string_view text) {
  std::vector<InterpolationProblem> problems;
  std::string out = substitute(text, problems);
  CHECK(problems.empty());
  return out;
}

// Sets a variable for the life of the object.
struct ScopedVariable {
  ScopedVariable(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedVariable() { ::unsetenv(name_); }
  const char* name_;
};

}  // namespace

TEST_CASE("interpolation: variables and defaults and the $${ escape", "[config][environment]") {
  CHECK(substitute("${HOST}:${PORT}") == "db.local:5432");
  CHECK(substitute("no references, $5 and $HOST stay") == "no references, $5 and $HOST stay");
  CHECK(substitute("${MISSING:-fallback}") == "fallback");
  CHECK(substitute("${HOST:-fallback}") == "db.local");
  CHECK(substitute("${EMPTY:-fallback}") == "fallback");  // as the shell's :- does
  CHECK(substitute("${EMPTY}") == "");
  CHECK(substitute("${MISSING:-}") == "");
  CHECK(substitute("${MISSING:-a:-b}") == "a:-b");
  CHECK(substitute("$${HOST} is written literally") == "${HOST} is written literally");
  CHECK(substitute("$$ alone stays $$") == "$$ alone stays $$");
  // A value is not searched again: a variable cannot smuggle in another.
  CHECK(substitute("${NESTED}") == "${HOST}");
}

TEST_CASE("interpolation: each problem at the offset of its $", "[config][environment]") {
  std::vector<InterpolationProblem> problems;
  const std::string out = substitute("a ${MISSING} b ${1X} c ${HOST} d ${open", problems);
  REQUIRE(problems.size() == 3);
  CHECK(problems[0].offset == 2);
  CHECK(problems[0].message == "environment variable 'MISSING' is not set");
  CHECK(problems[0].hint == "set it, or give a default: ${MISSING:-VALUE}");
  CHECK(problems[1].offset == 15);
  CHECK(problems[1].message == "'${1X}' does not name an environment variable");
  CHECK(problems[2].offset == 33);
  CHECK(problems[2].message == "'${' is not closed with '}'");
  CHECK(out == "a ${MISSING} b ${1X} c db.local d ${open");
  problems.clear();
  substitute("${}", problems);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].message == "'${}' does not name an environment variable");
}

TEST_CASE("interpolation happens before values are typed", "[config][environment]") {
  ScopedVariable capacity("WEIR_TEST_CAPACITY", "64");
  ScopedVariable kind("WEIR_TEST_KIND", "report");
  ScopedVariable work("WEIR_TEST_WORK", "250ms");
  auto registry = weir::test::test_registry();
  const auto spec = weir::load_pipeline_string(
      "pipeline: env-${WEIR_TEST_KIND}\n"
      "defaults: {capacity: '${WEIR_TEST_CAPACITY}', drain_timeout: '${WEIR_TEST_UNSET:-5s}'}\n"
      "stages:\n"
      "  jobs: {plugin: generate, config: {count: '${WEIR_TEST_UNSET:-7}'}}\n"
      "  workers:\n"
      "    plugin: simulate_work\n"
      "    input: jobs\n"
      "    when: 'kind == \"${WEIR_TEST_KIND}\"'\n"
      "    config: {work: '${WEIR_TEST_WORK}'}\n"
      "  all: {plugin: stdout, input: workers}\n"
      "  rest: {plugin: stdout, input: jobs.unmatched}\n",
      registry);
  CHECK(spec.name == "env-report");
  CHECK(spec.drain_timeout == std::chrono::seconds(5));
  CHECK(spec.stage("workers")->capacity == 64);
  CHECK(spec.stage("workers")->when->text() == "kind == \"report\"");
  CHECK(spec.stage("jobs")->options.at("count").as_integer() == 7);
  CHECK(spec.stage("workers")->options.at("work").as_duration() == std::chrono::milliseconds(250));
}

TEST_CASE("interpolation: --set values too with problems named by the override", "[config][environment]") {
  ScopedVariable replicas("WEIR_TEST_REPLICAS", "3");
  auto registry = weir::test::test_registry();
  const std::string yaml = "pipeline: p\nstages:\n  jobs: {plugin: generate}\n  out: {plugin: stdout, input: jobs}\n";
  auto spec = weir::load_pipeline_string(yaml, registry, {weir::parse_override("out.replicas=${WEIR_TEST_REPLICAS}")});
  CHECK(spec.stage("out")->replicas == 3);
  try {
    weir::load_pipeline_string(yaml, registry, {weir::parse_override("out.replicas=${WEIR_TEST_UNSET}")});
    FAIL("accepted");
  } catch (const weir::ConfigError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].to_string() ==
          "--set out.replicas=${WEIR_TEST_UNSET}: error: environment variable 'WEIR_TEST_UNSET' is not set (set it, "
          "or give a default: ${WEIR_TEST_UNSET:-VALUE})");
  }
}

TEST_CASE("interpolation: the column of each $ in block and multi-line scalars", "[config][environment]") {
  auto registry = weir::test::test_registry();
  try {
    weir::load_pipeline_string("pipeline: p\n"
                               "description: \"first ${WEIR_TEST_UNSET_A}\n"
                               "  then ${WEIR_TEST_UNSET_B}\"\n"
                               "stages:\n  jobs: {plugin: generate}\n  out: {plugin: stdout, input: jobs}\n",
                               registry, {}, "p.yaml");
    FAIL("accepted");
  } catch (const weir::ConfigError& e) {
    REQUIRE(e.diagnostics().size() == 2);
    CHECK(e.diagnostics()[0].line == 2);
    CHECK(e.diagnostics()[0].column == 21);
    CHECK(e.diagnostics()[1].line == 3);
    CHECK(e.diagnostics()[1].column == 8);
  }
}

TEST_CASE("constant conditions: what does not read the message", "[config][condition]") {
  const auto constants = [](std::string_view text) { return weir::Condition::parse(text).constants(); };
  CHECK(constants("level == \"error\"").empty());
  CHECK(constants("exists(user) && priority > 3").empty());
  auto whole = constants("\"level\" == \"error\"");
  REQUIRE(whole.size() == 1);
  CHECK(whole[0].column == 1);
  CHECK_FALSE(whole[0].value);
  CHECK(whole[0].whole);
  whole = constants("true");
  REQUIRE(whole.size() == 1);
  CHECK(whole[0].value);
  whole = constants("!(1 > 2) && exists(payload)");
  REQUIRE(whole.size() == 1);
  CHECK(whole[0].value);
  CHECK(whole[0].whole);
  const auto parts = constants("priority > 5 || 1 < 2 || (kind == \"a\" && \"x\" in [\"y\"])");
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].column == 17);
  CHECK(parts[0].value);
  CHECK_FALSE(parts[0].whole);
  CHECK(parts[1].column == 42);
  CHECK_FALSE(parts[1].value);
  CHECK(weir::Condition().constants().empty());
}

TEST_CASE("interpolation: a mistake inside a replaced value is placed at the value", "[config][environment]") {
  // The column inside the text no longer matches the file once a variable
  // of another length was replaced in it: the value's start is what is true.
  ScopedVariable kind("WEIR_TEST_KIND", "a-much-longer-kind");
  auto registry = weir::test::test_registry();
  try {
    weir::load_pipeline_string("pipeline: p\n"
                               "stages:\n"
                               "  jobs: {plugin: generate}\n"
                               "  out:\n"
                               "    plugin: stdout\n"
                               "    input: jobs\n"
                               "    when: 'kind == \"${WEIR_TEST_KIND}\" && priority >'\n"
                               "  rest: {plugin: stdout, input: jobs.unmatched}\n",
                               registry, {}, "p.yaml");
    FAIL("accepted");
  } catch (const weir::ConfigError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].to_string() ==
          "p.yaml:7:11: error: stage 'out': when: expected a value after '>', found the end of the expression");
  }
}
