// The validation catalogue: one broken pipeline per kind of mistake under
// broken/, each with every diagnostic it must produce, exactly
// (FILE:LINE:COL: error: message (hint)).

#include "test_plugins.hpp"

#include <weir/config.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

namespace {

struct Case {
  std::string file;
  std::vector<std::string> overrides;
  std::vector<std::string> expected;  // each prefixed with the file name when it names a line
};

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
       {"18-bad-condition-syntax.yaml:8:17: error: stage 'reports': when: '=' is not an operator (use '==' to compare)"}},
      {"19-bad-regex.yaml",
       {},
       {"19-bad-regex.yaml:8:32: error: stage 'tests': when: bad regular expression \"^test-([\": missing ]: ["}},
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
       "29-many-mistakes.yaml:9:13: error: stage 'workers': unknown plugin 'simulate_wrok' (did you mean 'simulate_work'?)",
       "29-many-mistakes.yaml:10:19: error: stage 'workers': unknown input 'nowhere'",
       "29-many-mistakes.yaml:11:15: error: stage 'workers': replicas must be at least 1",
       "29-many-mistakes.yaml:15:22: error: stage 'out': when: expected a value after '>', found the end of the expression",
       "29-many-mistakes.yaml:16:29: error: stage 'out': dead-letter stage 'failed' does not exist"}},
      {"30-unsupported-regex.yaml",
       {},
       {"30-unsupported-regex.yaml:8:27: error: stage 'tests': when: bad regular expression \"^(?!test-)\": lookahead (?= and (?! is not supported (RE2 syntax: matching must stay linear in the text)",
        "30-unsupported-regex.yaml:10:57: error: stage 'tests': lane when: bad regular expression \"(\\w+) \\1\": backreferences such as \\1 are not supported (RE2 syntax: matching must stay linear in the text)"}},
      {"31-deep-condition.yaml",
       {},
       {"31-deep-condition.yaml:8:112: error: stage 'bangs': when: nested deeper than 100 levels of '!' and parentheses",
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
  };
  return cases;
}

std::vector<std::string> diagnose(const Case& c) {
  const std::filesystem::path path = std::filesystem::path(WEIR_BROKEN_PIPELINES) / c.file;
  std::vector<weir::Override> overrides;
  for (const auto& text : c.overrides) overrides.push_back(weir::parse_override(text));
  auto registry = weir::test::test_registry();
  std::vector<std::string> lines;
  try {
    weir::load_pipeline_file(path, registry, overrides);
  } catch (const weir::ConfigError& e) {
    const std::string prefix = std::string(WEIR_BROKEN_PIPELINES) + "/";
    for (const auto& d : e.diagnostics()) {
      std::string line = d.to_string();
      if (line.rfind(prefix, 0) == 0) line = line.substr(prefix.size());
      lines.push_back(line);
    }
  }
  return lines;
}

}  // namespace

TEST_CASE("every broken pipeline gives exactly its diagnostics", "[config][catalogue]") {
  for (const Case& c : catalogue()) {
    DYNAMIC_SECTION(c.file) { CHECK(diagnose(c) == c.expected); }
  }
}

TEST_CASE("the catalogue covers every file under broken/ and at least 20 mistakes", "[config][catalogue]") {
  std::set<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(WEIR_BROKEN_PIPELINES))
    files.insert(entry.path().filename().string());
  std::set<std::string> covered;
  for (const Case& c : catalogue()) covered.insert(c.file);
  CHECK(files == covered);
  CHECK(files.size() >= 20);
}
