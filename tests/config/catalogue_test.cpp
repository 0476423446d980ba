// The validation catalogue: one broken pipeline per kind of mistake under
// broken/, each with every diagnostic it must produce, exactly
// (FILE:LINE:COL: error: message (hint)). Mistakes in the graph and the
// schema use the in-process test plugins; mistakes only a plugin's own
// constructor finds use the standard plugins, built and loaded as `weir
// validate` loads them.

#include "test_plugins.hpp"

#include <weir/config.hpp>
#include <weir/pipeline.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>

namespace {

enum class Plugins { test, standard };

struct Case {
  std::string file;
  std::vector<std::string> overrides;
  std::vector<std::string> expected;  // each prefixed with the file name when it names a line
  Plugins plugins = Plugins::test;
};

// --max-memory for the cases that need it.
std::optional<std::size_t> max_memory(const std::string& file) {
  if (file == "45-warn-memory.yaml") return std::size_t{1} << 30;
  return std::nullopt;
}

const std::vector<Case>& catalogue() {
  static const std::vector<Case> cases{
      {"01-yaml-syntax.yaml",
       {},
       {"01-yaml-syntax.yaml:3:49: error: YAML syntax: illegal flow end"}},
      {"02-unknown-top-level-key.yaml",
       {},
       {"02-unknown-top-level-key.yaml:2:1: error: unknown key 'descripton' in the pipeline (did you mean 'description'?)"}},
      {"03-unknown-stage-key.yaml",
       {},
       {"03-unknown-stage-key.yaml:5:5: error: unknown key 'replica' in stage 'jobs' (did you mean 'replicas'?)"}},
      {"04-unknown-plugin.yaml",
       {},
       {"04-unknown-plugin.yaml:4:13: error: stage 'jobs': unknown plugin 'generat' (did you mean 'generate'?)"}},
      {"05-unknown-input.yaml",
       {},
       {"05-unknown-input.yaml:7:12: error: stage 'out': unknown input 'jbos' (did you mean 'jobs'?)"}},
      {"06-cycle.yaml",
       {},
       {"06-cycle.yaml:5:3: error: cycle: first -> second -> first (a pipeline is a graph without loops; messages could never drain)"}},
      {"07-source-with-input.yaml",
       {},
       {"07-source-with-input.yaml:7:12: error: stage 'more': a source takes no input (remove input:, or set kind: processor or sink if plugin 'generate' is one)"}},
      {"08-sink-nobody-feeds.yaml",
       {},
       {"08-sink-nobody-feeds.yaml:8:3: error: stage 'audit': nobody feeds this sink (add input: STAGE, or name it as some stage's on_error.dead_letter)"}},
      {"09-missing-dead-letter.yaml",
       {},
       {"09-missing-dead-letter.yaml:8:41: error: stage 'workers': dead-letter stage 'failures' does not exist"}},
      {"10-last-lane-condition.yaml",
       {},
       {"10-last-lane-condition.yaml:10:9: error: stage 'workers': the last lane 'normal' has a condition, so messages matching no lane would have nowhere to go (remove its when: so it takes the rest, or add a last lane without one)"}},
      {"11-unmatched-without-conditional-consumer.yaml",
       {},
       {"11-unmatched-without-conditional-consumer.yaml:10:12: error: stage 'rest': 'jobs.unmatched' has no unmatched messages: no stage reads 'jobs' with a when: condition (give a consumer of 'jobs' a when:, or read 'jobs' directly)"}},
      {"12-bad-duration.yaml",
       {},
       {"12-bad-duration.yaml:8:37: error: stage 'workers': on_error.backoff must be a duration, found '10' (write it like 250ms, 30s or 2m)"}},
      {"13-bad-when-full.yaml",
       {},
       {"13-bad-when-full.yaml:3:14: error: defaults.when_full must be block, drop_newest or drop_oldest, found 'drop_new' (use block, drop_newest or drop_oldest)"}},
      {"14-option-wrong-type.yaml",
       {},
       {"14-option-wrong-type.yaml:6:14: error: stage 'jobs': option 'count': expected an integer, found 'many' (a whole number such as 10)"}},
      {"15-option-out-of-range.yaml",
       {},
       {"15-option-out-of-range.yaml:8:32: error: stage 'workers': option 'ratio': 1.5 is above the maximum (use at most 1)"}},
      {"16-missing-required-option.yaml",
       {},
       {"16-missing-required-option.yaml:8:5: error: stage 'out': missing required option 'path' of sink plugin 'file' (add config: {path: out.jsonl})"}},
      {"17-unknown-option.yaml",
       {},
       {"17-unknown-option.yaml:6:7: error: stage 'jobs': unknown option 'cuont' for source plugin 'generate' (did you mean 'count'?)"}},
      {"18-bad-condition-syntax.yaml",
       {},
       {"18-bad-condition-syntax.yaml:3:3: warning: stage 'jobs': every stage that reads it has a when: ('reports') and none reads 'jobs.unmatched': a message that matches no condition is only counted as unrouted (add a stage with input: jobs.unmatched to catch them)",
        "18-bad-condition-syntax.yaml:8:17: error: stage 'reports': when: '=' is not an operator (use '==' to compare)"}},
      {"19-bad-regex.yaml",
       {},
       {"19-bad-regex.yaml:3:3: warning: stage 'jobs': every stage that reads it has a when: ('tests') and none reads 'jobs.unmatched': a message that matches no condition is only counted as unrouted (add a stage with input: jobs.unmatched to catch them)",
        "19-bad-regex.yaml:8:32: error: stage 'tests': when: bad regular expression \"^test-([\": missing ]: ["}},
      {"20-replicas-zero.yaml",
       {},
       {"20-replicas-zero.yaml:8:15: error: stage 'workers': replicas must be at least 1"}},
      {"21-weights-mismatch.yaml",
       {},
       {"21-weights-mismatch.yaml:9:14: error: stage 'workers': 3 weights for 2 lanes (give one weight per lane, in lane order)"}},
      {"22-bad-set.yaml",
       {"workers.config.work=fast"},
       {"--set workers.config.work=fast: error: stage 'workers': option 'work': expected a duration, found 'fast' (a duration such as 250ms, 30s or 2m)"}},
      {"23-capacity-zero.yaml",
       {},
       {"23-capacity-zero.yaml:8:15: error: stage 'out': capacity must be at least 1"}},
      {"24-duplicate-stage.yaml",
       {},
       {"24-duplicate-stage.yaml:8:3: error: 'out' appears twice in stages (first at line 5)"}},
      {"25-wrong-kind.yaml",
       {},
       {"25-wrong-kind.yaml:7:11: error: stage 'out': there is no sink plugin 'generate'; 'generate' is a source (use kind: source)"}},
      {"26-missing-pipeline-name.yaml",
       {},
       {"26-missing-pipeline-name.yaml:1:1: error: pipeline: is required (name the pipeline, e.g. pipeline: job-queue)"}},
      {"27-lane-condition-column.yaml",
       {},
       {"27-lane-condition-column.yaml:9:59: error: stage 'workers': lane when: expected ')' to close the '(' at column 1, found the end of the expression"}},
      {"28-bad-unmatched-suffix.yaml",
       {},
       {"28-bad-unmatched-suffix.yaml:11:12: error: stage 'rest': input 'jobs.unmatchd': only '.unmatched' may follow a stage name (did you mean 'unmatched'?)"}},
      {"29-many-mistakes.yaml",
       {},
       {"29-many-mistakes.yaml:3:13: error: defaults.capacity must be a whole number of at least 1, found '0'",
       "29-many-mistakes.yaml:7:21: error: stage 'jobs': option 'count': expected an integer, found 'lots' (a whole number such as 10)",
       "29-many-mistakes.yaml:7:37: error: stage 'jobs': option 'interval': expected a duration, found '5' (a duration such as 250ms, 30s or 2m)",
       "29-many-mistakes.yaml:8:3: warning: stage 'workers': every stage that reads it has a when: ('out') and none reads 'workers.unmatched': a message that matches no condition is only counted as unrouted (add a stage with input: workers.unmatched to catch them)",
       "29-many-mistakes.yaml:9:13: error: stage 'workers': unknown plugin 'simulate_wrok' (did you mean 'simulate_work'?)",
       "29-many-mistakes.yaml:10:19: error: stage 'workers': unknown input 'nowhere'",
       "29-many-mistakes.yaml:11:15: error: stage 'workers': replicas must be at least 1",
       "29-many-mistakes.yaml:15:22: error: stage 'out': when: expected a value after '>', found the end of the expression",
       "29-many-mistakes.yaml:16:29: error: stage 'out': dead-letter stage 'failed' does not exist"}},
      {"30-unsupported-regex.yaml",
       {},
       {"30-unsupported-regex.yaml:3:3: warning: stage 'jobs': every stage that reads it has a when: ('tests') and none reads 'jobs.unmatched': a message that matches no condition is only counted as unrouted (add a stage with input: jobs.unmatched to catch them)",
        "30-unsupported-regex.yaml:8:27: error: stage 'tests': when: bad regular expression \"^(?!test-)\": lookahead (?= and (?! is not supported (RE2 syntax: matching must stay linear in the text)",
        "30-unsupported-regex.yaml:10:57: error: stage 'tests': lane when: bad regular expression \"(\\w+) \\1\": backreferences such as \\1 are not supported (RE2 syntax: matching must stay linear in the text)"}},
      {"31-deep-condition.yaml",
       {},
       {"31-deep-condition.yaml:3:3: warning: stage 'jobs': every stage that reads it has a when: ('bangs' or 'parentheses') and none reads 'jobs.unmatched': a message that matches no condition is only counted as unrouted (add a stage with input: jobs.unmatched to catch them)",
        "31-deep-condition.yaml:8:112: error: stage 'bangs': when: nested deeper than 100 levels of '!' and parentheses",
        "31-deep-condition.yaml:12:112: error: stage 'parentheses': when: nested deeper than 100 levels of '!' and parentheses"}},
      {"32-control-characters-in-keys.yaml",
       {},
       {"32-control-characters-in-keys.yaml:5:5: error: unknown key 'count\\nforged.yaml:1:1: error: it is all fine\\x1b[2J\\u202e' in stage 'jobs' (known keys: plugin, kind, input, when, replicas, capacity, when_full, lanes, lane_policy, weights, on_error or config)",
        "32-control-characters-in-keys.yaml:6:14: error: stage 'jobs': unknown option 'co\\x01unt' for source plugin 'generate' (did you mean 'count'?)"}},
      {"33-deep-yaml.yaml",
       {},
       {"33-deep-yaml.yaml:5:81: error: YAML nested deeper than 64 levels (a pipeline needs a handful of levels; flatten the value)"}},
      {"34-alias-expansion.yaml",
       {},
       {"34-alias-expansion.yaml:11:51: error: the file stands for more than 1000000 values once its aliases are expanded (anchors (&name) and aliases (*name) may repeat a value, but not multiply it without bound)"}},
      {"48-alias-cycle.yaml",
       {},
       {"48-alias-cycle.yaml:7:24: error: an alias refers to the collection it is inside: the value would contain itself (an alias (*name) may repeat a value whose anchor (&name) is complete)"}},
      // Environment variables, --set defaults, YAML hints, then warnings (which
      // list with the errors, or alone when the pipeline is otherwise valid).
      {"35-env-unset.yaml",
       {},
       {"35-env-unset.yaml:3:13: error: environment variable 'WEIR_CATALOGUE_UNSET_CAPACITY' is not set (set it, or give a default: ${WEIR_CATALOGUE_UNSET_CAPACITY:-VALUE})",
       "35-env-unset.yaml:7:36: error: environment variable 'WEIR_CATALOGUE_UNSET_INTERVAL' is not set (set it, or give a default: ${WEIR_CATALOGUE_UNSET_INTERVAL:-VALUE})",
       "35-env-unset.yaml:11:54: error: environment variable 'WEIR_CATALOGUE_UNSET_NAME' is not set (set it, or give a default: ${WEIR_CATALOGUE_UNSET_NAME:-VALUE})"}},
      {"36-env-malformed.yaml",
       {},
       {"36-env-malformed.yaml:9:25: error: '${1st}' does not name an environment variable (a name is letters, digits and _, not starting with a digit: ${NAME} or ${NAME:-default})",
       "36-env-malformed.yaml:9:49: error: '${' is not closed with '}' (write ${NAME} or ${NAME:-default}; $${ is a literal ${)"}},
      {"37-env-default-typed.yaml",
       {},
       {"37-env-default-typed.yaml:3:3: warning: stage 'jobs': every stage that reads it has a when: ('out') and none reads 'jobs.unmatched': a message that matches no condition is only counted as unrouted (add a stage with input: jobs.unmatched to catch them)",
       "37-env-default-typed.yaml:5:21: error: stage 'jobs': option 'count': expected an integer, found 'ten' (a whole number such as 10)",
       "37-env-default-typed.yaml:9:15: error: stage 'out': capacity must be at least 1",
       "37-env-default-typed.yaml:10:11: error: stage 'out': when: unexpected character '$'"}},
      {"38-set-defaults.yaml",
       {"defaults.when_full=drop_everything", "defaults.capacity=16", "stages.out.replicas=0"},
       {"--set defaults.when_full=drop_everything: error: defaults.when_full must be block, drop_newest or drop_oldest, found 'drop_everything' (use block, drop_newest or drop_oldest)",
       "--set stages.out.replicas=0: error: stage 'out': replicas must be at least 1"}},
      {"39-yaml-unquoted-hash.yaml",
       {},
       {"39-yaml-unquoted-hash.yaml:6:3: error: YAML syntax: end of map flow not found (the ' #' at line 5, column 40 starts a comment, even inside { } or [ ], and hides the '}' after it; put the value in quotes)"}},
      {"40-yaml-unquoted-colon-in-flow.yaml",
       {},
       {"40-yaml-unquoted-colon-in-flow.yaml:5:38: error: YAML syntax: end of map flow not found (the ': ' at line 5, column 38 starts a second key in one entry of { }; put a value that holds ': ' in quotes)"}},
      {"41-yaml-unquoted-colon.yaml",
       {},
       {"41-yaml-unquoted-colon.yaml:2:24: error: YAML syntax: illegal map value (the ': ' at line 2, column 24 starts a second key on one line; put a value that holds ': ' in quotes)"}},
      {"46-yaml-unquoted-variable-in-flow.yaml",
       {},
       {"46-yaml-unquoted-variable-in-flow.yaml:5:22: error: YAML syntax: end of map flow not found (the '${' at line 5, column 21 is read as the start of a map: inside { } or [ ], put a value with ${NAME} in quotes: '${NAME}')"}},
      {"42-warn-unrouted.yaml",
       {},
       {"42-warn-unrouted.yaml:3:3: warning: stage 'jobs': every stage that reads it has a when: ('reports' or 'emails') and none reads 'jobs.unmatched': a message that matches no condition is only counted as unrouted (add a stage with input: jobs.unmatched to catch them)"}},
      {"43-warn-dead-letter-drop.yaml",
       {},
       {"43-warn-dead-letter-drop.yaml:3:14: warning: stage 'failed_store' is on the way of the dead letters that 'failed' takes, and when_full: drop_oldest drops them when its channel is full (use when_full: block (the default) where dead letters pass, so none is lost)",
       "43-warn-dead-letter-drop.yaml:18:16: warning: stage 'failed' takes the dead letters of 'workers', and when_full: drop_newest drops them when its channel is full (use when_full: block (the default) where dead letters pass, so none is lost)"}},
      {"44-warn-constant-conditions.yaml",
       {},
       {"44-warn-constant-conditions.yaml:8:12: warning: stage 'errors': when: the condition is never true: it reads nothing of the message (no message passes it; name an attribute without quotes: level == \"error\")",
       "44-warn-constant-conditions.yaml:12:28: warning: stage 'urgent': when: this part is always true: it reads nothing of the message (name an attribute without quotes: level == \"error\")",
       "44-warn-constant-conditions.yaml:15:30: warning: stage 'urgent': lane 'again' has the same when: as lane 'first', which takes those messages first: it never receives any (give it a condition of its own, or remove it)",
       "44-warn-constant-conditions.yaml:16:28: warning: stage 'urgent': lane 'all' when: the condition is always true: it reads nothing of the message (it takes every message, and the lanes after it get none)"}},
      {"45-warn-memory.yaml",
       {},
       {"45-warn-memory.yaml:11:9: warning: the channels can hold 108192 messages, 6.6 GiB at 64.0 KiB each, above --max-memory 1.0 GiB (the largest is stage 'workers' with 104096; lower capacity: there or in defaults, or raise --max-memory)"}},
      {"47-warn-plugin-condition.yaml",
       {},
       {"47-warn-plugin-condition.yaml:8:21: warning: stage 'errors': option 'when': the condition is never true: it reads nothing of the message (no message passes it; name an attribute without quotes: level == \"error\")"},
       Plugins::standard},
      // Mistakes only the plugin's own constructor (or the kind's inner
      // parser) finds, each at the option and, inside a string, the column.
      {"60-filter-condition.yaml",
       {},
       {"60-filter-condition.yaml:8:27: error: stage 'errors': option 'when': '=' is not an operator (use '==' to compare)"},
       Plugins::standard},
      {"61-regex-pattern.yaml",
       {},
       {"61-regex-pattern.yaml:9:28: error: stage 'parsed': option 'pattern': '^(?P<level>[A-Z+) (?P<msg>.*)$' is not a valid regular expression: missing ]: [A-Z+) (?P<msg>.*)$"},
       Plugins::standard},
      {"62-set-template.yaml",
       {},
       {"62-set-template.yaml:9:56: error: stage 'enrich': option 'attributes.summary': placeholder '{level:' is followed by ' ' instead of '}' (write {{ and }} for literal braces)"},
       Plugins::standard},
      {"63-filter-matches.yaml",
       {},
       {"63-filter-matches.yaml:9:32: error: stage 'words': option 'when': bad regular expression \"([a-z\": missing ]: [a-z"},
       Plugins::standard},
      {"64-generate-sizes.yaml",
       {},
       {"64-generate-sizes.yaml:7:25: error: stage 'jobs': option 'payload_size_max': 10 is below payload_size 100 (0 or a size at least payload_size)"},
       Plugins::standard},
      {"65-own-plugin-rejects.yaml",
       {},
       {"65-own-plugin-rejects.yaml:8:20: error: stage 'fields': option 'char': '::' must be exactly one byte (one character such as ',')",
       "65-own-plugin-rejects.yaml:9:3: error: stage 'out' replica 0: sink plugin 'unready' (in process): constructor threw: no licence key in the environment"}},
      {"66-json-empty-field.yaml",
       {},
       {"66-json-empty-field.yaml:8:30: error: stage 'parsed': option 'fields[1]': an empty field name (names of fields)"},
       Plugins::standard},
      {"67-set-nothing-to-do.yaml",
       {},
       {"67-set-nothing-to-do.yaml:5:3: error: stage 'enrich': option 'attributes': nothing to do (at least one of attributes, remove, payload, priority)"},
       Plugins::standard},
      {"68-generate-template-weight.yaml",
       {},
       {"68-generate-template-weight.yaml:9:45: error: stage 'jobs': option 'templates[1].weight': '-1' is not a positive number (a number above 0)"},
       Plugins::standard},
      {"69-generate-template-key.yaml",
       {},
       {"69-generate-template-key.yaml:7:11: error: stage 'jobs': option 'templates[0]': unknown key 'colour' (payload, attributes, priority or weight)"},
       Plugins::standard},
      {"70-generate-template-placeholder.yaml",
       {},
       {"70-generate-template-placeholder.yaml:7:29: error: stage 'jobs': option 'templates[0].payload': placeholder '{seq' is not closed with '}' (write {{ and }} for literal braces)"},
       Plugins::standard},
      {"71-file-follow-wildcard-folder.yaml",
       {},
       {"71-file-follow-wildcard-folder.yaml:6:13: error: stage 'logs': option 'path': '/var/log/*/app.log' has wildcards in its folder part (wildcards only in the file name when following (logs/*.log))"},
       Plugins::standard},
      {"72-file-missing.yaml",
       {},
       {"72-file-missing.yaml:5:20: error: stage 'logs': option 'path': cannot read '/nonexistent/weir/input.log': No such file or directory (a readable file)"},
       Plugins::standard},
      {"73-file-sink-size-unit.yaml",
       {},
       {"73-file-sink-size-unit.yaml:8:45: error: stage 'out': option 'rotate_bytes': expected a size, found '10MB' (a size in bytes such as 512, 64KiB or 16MiB)"},
       Plugins::standard},
      {"74-dedupe-key-template.yaml",
       {},
       {"74-dedupe-key-template.yaml:8:33: error: stage 'unique': option 'key': placeholder '{event' is not closed with '}' (write {{ and }} for literal braces)"},
       Plugins::standard},
      {"75-filter-action-typo.yaml",
       {},
       {"75-filter-action-typo.yaml:8:44: error: stage 'kept': option 'action': 'keeep' is not one of keep or drop (did you mean 'keep'?)"},
       Plugins::standard},
      {"76-simulate-work-duration.yaml",
       {},
       {"76-simulate-work-duration.yaml:9:53: error: stage 'workers': option 'durations.report_generate': expected a duration, found 'slow' (a duration such as 250ms, 30s or 2m)"},
       Plugins::standard},
      {"77-plugin-mistakes-together.yaml",
       {},
       {"77-plugin-mistakes-together.yaml:5:53: error: stage 'jobs': option 'payload_size_max': 1024 is below payload_size 65536 (0 or a size at least payload_size)",
       "77-plugin-mistakes-together.yaml:9:40: error: stage 'errors': option 'when': expected a value at the start of a comparison, found the end of the expression",
       "77-plugin-mistakes-together.yaml:13:24: error: stage 'parsed': option 'pattern': '(?P<level>\\w+' is not a valid regular expression: missing ): (?P<level>\\w+",
       "77-plugin-mistakes-together.yaml:17:37: error: stage 'enrich': option 'payload': placeholder '{msg' is not closed with '}' (write {{ and }} for literal braces)",
       "77-plugin-mistakes-together.yaml:21:20: error: stage 'out': option 'path': expected a path, found '' (a file path, relative to the working folder)",
       "77-plugin-mistakes-together.yaml:21:31: error: stage 'out': option 'flush': 'evry' is not one of message, batch or stop (use message, batch or stop)"},
       Plugins::standard},
  };
  return cases;
}

std::vector<std::string> diagnose(const Case& c) {
  const std::filesystem::path path = std::filesystem::path(WEIR_BROKEN_PIPELINES) / c.file;
  std::vector<weir::Override> overrides;
  for (const auto& text : c.overrides) overrides.push_back(weir::parse_override(text));
  weir::PluginRegistry registry;
  if (c.plugins == Plugins::test) weir::test::register_test_plugins(registry);
  else registry.load_folders({WEIR_TEST_PLUGIN_DIR});
  weir::WarningLimits limits;
  limits.max_memory = max_memory(c.file);
  std::vector<weir::Diagnostic> diagnostics;
  try {
    diagnostics = weir::load_pipeline_file(path, registry, overrides, limits).warnings;
  } catch (const weir::ConfigError& e) {
    diagnostics = e.diagnostics();
  }
  const std::string prefix = std::string(WEIR_BROKEN_PIPELINES) + "/";
  std::vector<std::string> lines;
  for (const auto& d : diagnostics) {
    std::string line = d.to_string();
    if (line.rfind(prefix, 0) == 0) line = line.substr(prefix.size());
    lines.push_back(line);
  }
  return lines;
}

}  // namespace

TEST_CASE("every broken pipeline gives exactly its diagnostics", "[config][catalogue]") {
  for (const Case& c : catalogue()) {
    DYNAMIC_SECTION(c.file) { CHECK(diagnose(c) == c.expected); }
  }
}

namespace {

// Runs `check` with the repository's root as the working folder (the example
// pipelines name their files relative to it), and puts the old one back.
template <class F>
void from_repository_root(F check) {
  const auto before = std::filesystem::current_path();
  std::filesystem::current_path(std::filesystem::path(WEIR_BROKEN_PIPELINES) / "../../..");
  try {
    check();
  } catch (...) {
    std::filesystem::current_path(before);
    throw;
  }
  std::filesystem::current_path(before);
}

// What `weir run` does before anything starts: load (as validate does), then
// build the pipeline, which constructs every replica of every stage.
void builds_for_run(const std::filesystem::path& file, weir::PluginRegistry& registry) {
  INFO(file.string());
  weir::PipelineSpec spec;
  try {
    spec = weir::load_pipeline_file(file, registry);
  } catch (const weir::ConfigError& e) {
    FAIL_CHECK("validation rejects it: " << e.what());
    return;
  }
  CHECK_NOTHROW(weir::Pipeline(std::move(spec), registry));
}

}  // namespace

TEST_CASE("whatever validation accepts is not rejected by run at configuration time", "[config][catalogue]") {
  from_repository_root([] {
    std::size_t accepted = 0;
    for (const Case& c : catalogue()) {
      if (!c.overrides.empty()) continue;
      const auto lines = diagnose(c);
      if (std::any_of(lines.begin(), lines.end(), [](const std::string& l) { return l.find(": error: ") != std::string::npos; }))
        continue;
      weir::PluginRegistry registry;
      if (c.plugins == Plugins::test) weir::test::register_test_plugins(registry);
      else registry.load_folders({WEIR_TEST_PLUGIN_DIR});
      builds_for_run(std::filesystem::path(WEIR_BROKEN_PIPELINES) / c.file, registry);
      ++accepted;
    }
    CHECK(accepted >= 4);  // the files that only warn
    // The example pipelines and the command's own test pipelines, with the
    // standard plugins: each must validate, and then build for a run.
    std::size_t examples = 0;
    for (const char* folder : {"pipelines", "tests/cli/run", "tests/cli/pipelines"})
      for (const auto& entry : std::filesystem::recursive_directory_iterator(folder)) {
        if (entry.path().extension() != ".yaml") continue;
        if (entry.path().filename() == "bad-regex.yaml") continue;  // run_test.py's case of a rejected pipeline
        weir::PluginRegistry registry;
        registry.load_folders({WEIR_TEST_PLUGIN_DIR});
        builds_for_run(entry.path(), registry);
        ++examples;
      }
    CHECK(examples >= 10);
  });
}

TEST_CASE("the catalogue covers every file under broken/ and at least 40 mistakes", "[config][catalogue]") {
  std::set<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(WEIR_BROKEN_PIPELINES))
    files.insert(entry.path().filename().string());
  std::set<std::string> covered;
  for (const Case& c : catalogue()) covered.insert(c.file);
  CHECK(files == covered);
  CHECK(files.size() >= 40);
}
