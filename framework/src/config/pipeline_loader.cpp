// Pipeline YAML → PipelineSpec. Every problem is collected with its position,
// then thrown together; nothing stops at the first one except YAML that does
// not parse at all.

#include "config/assembly.hpp"
#include "config/environment.hpp"
#include "config/graph_check.hpp"
#include "config/overrides.hpp"
#include "config/pipeline_loader.hpp"
#include "config/pipeline_warnings.hpp"
#include "config/reporter.hpp"
#include "config/yaml_limits.hpp"
#include "config/yaml_reader.hpp"
#include "config/yaml_syntax_hint.hpp"

#include <weir/config.hpp>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

namespace weir {

namespace config {
namespace {

namespace fs = std::filesystem;

struct Defaults {
  std::size_t capacity = 1024;
  WhenFull when_full = WhenFull::block;
  LanePolicy lane_policy = LanePolicy::strict;
  ErrorPolicy on_error;
};

struct StageDraft {
  YAML::Node key;
  YAML::Node plugin_node;
  YAML::Node config_key;
  YAML::Node config;
  YAML::Node weights_node;  // meaningful when has_weights
  bool has_weights = false;
  bool has_config = false;
  std::vector<unsigned> weights;
  std::optional<Kind> explicit_kind;
  StageSpec spec;
  StagePlaces places;
};

class Loader : private YamlReader {
 public:
  Loader(Reporter& reporter, PluginRegistry& registry, fs::path base_dir, std::string_view source,
         const WarningLimits& limits, AddPlugins add_plugins = {})
      : YamlReader(reporter, source),
        registry_(registry),
        base_dir_(std::move(base_dir)),
        limits_(limits),
        add_plugins_(std::move(add_plugins)) {}

  PipelineSpec load(const YAML::Node& root) {
    PipelineSpec spec;
    if (!root.IsMap()) {
      reporter_.error(root.IsNull() ? Place{reporter_.file(), {1, 1}} : reporter_.place(root),
                      "a pipeline file is a map with pipeline: and stages:",
                      "start with `pipeline: NAME` and `stages:`");
      return spec;
    }
    YAML::Node stages, tests;
    bool has_stages = false, has_tests = false;
    read_map(root, "the pipeline",
             {{"pipeline",
               [&](const YAML::Node& value) {
                 if (auto name = read_string(value, "pipeline")) spec.name = *name;
               }},
              {"description",
               [&](const YAML::Node& value) {
                 if (auto text = read_string(value, "description")) spec.description = *text;
               }},
              {"plugin_path", [&](const YAML::Node& value) { read_plugin_path(value, spec); }},
              {"defaults", [&](const YAML::Node& value) { read_defaults(value, spec); }},
              {"stages",
               [&](const YAML::Node& value) {
                 has_stages = true;
                 stages.reset(value);
               }},
              {"tests", [&](const YAML::Node& value) {
                 has_tests = true;
                 tests.reset(value);
               }}});
    if (!root["pipeline"]) reporter_.error(root, "pipeline: is required", "name the pipeline, e.g. pipeline: job-queue");
    if (!has_stages) {
      reporter_.error(root, "stages: is required", "add a map of stages, each with plugin:");
      return spec;
    }
    if (!stages.IsMap() || stages.size() == 0) {
      reporter_.error(stages, "stages: must be a map of stage names to stages", "for example stages: {jobs: {plugin: generate}}");
      return spec;
    }

    load_plugin_folders(registry_, spec.plugin_path);
    if (add_plugins_) add_plugins_(registry_);
    std::vector<StageDraft> drafts;
    walk_map(stages, {}, "stages", [&](const std::string& name, const YAML::Node& body, const YAML::Node& key) {
      drafts.push_back(read_stage(name, key, body));
    });
    infer_kinds(drafts);
    std::vector<StagePlaces> places;
    for (StageDraft& draft : drafts) {
      resolve_plugin(draft);
      apply_weights(draft);
      places.push_back(draft.places);
      spec.stages.push_back(std::move(draft.spec));
    }
    check_graph(spec, places, reporter_);
    check_warnings(spec, places, limits_, reporter_);
    for (const Diagnostic& problem : registry_.problems()) reporter_.add(problem);
    if (has_tests) spec.tests = read_tests(tests, spec);
    return spec;
  }

  // A file of tests alone (`weir test --tests FILE`): a map with tests:.
  std::vector<PipelineTest> load_tests(const YAML::Node& root, const PipelineSpec& spec) {
    std::vector<PipelineTest> tests;
    if (!root.IsMap() || !root["tests"]) {
      reporter_.error(root.IsNull() || !root.IsDefined() ? Place{reporter_.file(), {1, 1}} : reporter_.place(root),
                      "a tests file is a map with tests:", "start with `tests:` and a list of tests");
      return tests;
    }
    read_map(root, "the tests file", {{"tests", [&](const YAML::Node& value) { tests = read_tests(value, spec); }}});
    return tests;
  }

  // `tests:` of a pipeline whose stages are known: every stage a test names
  // must exist, and inputs go to sources or processors (sinks are replaced
  // by collectors when the tests run).
  std::vector<PipelineTest> read_tests(const YAML::Node& node, const PipelineSpec& spec) {
    std::vector<PipelineTest> tests;
    if (!node.IsSequence() || node.size() == 0) {
      reporter_.error(node, fmt::format("tests: must be a list of tests, found {}", describe(node)),
                      "for example tests: [{name: upper, inputs: [{insert_at: work, payload: a}], outputs: "
                      "[{extract_from: work, conditions: ['payload == \"A\"']}]}]");
      return tests;
    }
    std::map<std::string, int> names;
    for (const YAML::Node& item : node) {
      PipelineTest test;
      test.position = reporter_.place(item).position;
      test.file = reporter_.file();
      const YAML::Node name_node = item.IsMap() ? item["name"] : YAML::Node();
      const std::string who =
          name_node && name_node.IsScalar() ? fmt::format("test '{}'", name_node.Scalar()) : std::string("a test");
      read_map(item, who,
               {{"name",
                 [&](const YAML::Node& value) {
                   if (auto name = read_string(value, "a test's name")) {
                     test.name = *name;
                     if (auto [it, fresh] = names.emplace(*name, reporter_.place(value).position.line); !fresh)
                       reporter_.error(value, fmt::format("two tests are named '{}'", *name),
                                       it->second > 0 ? fmt::format("the first at line {}", it->second) : std::string());
                   }
                 }},
                {"inputs",
                 [&](const YAML::Node& value) {
                   if (value.IsSequence() && value.size() == 0)
                     reporter_.error(value, fmt::format("{}: inputs: is an empty list", who));
                   for (const YAML::Node& input : items(value)) test.inputs.push_back(read_test_input(input, spec, who));
                 }},
                {"outputs",
                 [&](const YAML::Node& value) {
                   for (const YAML::Node& output : items(value))
                     test.outputs.push_back(read_test_output(output, spec, who));
                 }},
                {"no_outputs_from",
                 [&](const YAML::Node& value) {
                   for (const YAML::Node& entry : items(value))
                     if (auto stage = read_test_stage(entry, spec, who + ": no_outputs_from"))
                       test.no_outputs_from.push_back(*stage);
                 }},
                {"timeout", [&](const YAML::Node& value) {
                   if (auto timeout = read_duration(value, who + ": timeout")) test.timeout = *timeout;
                 }}});
      if (item.IsMap()) {
        if (!name_node) reporter_.error(item, "a test needs a name:", "for example name: uppercases payloads");
        if (!item["inputs"])
          reporter_.error(item, fmt::format("{} has no inputs:", who), "for example inputs: [{insert_at: STAGE, payload: text}]");
        if (!item["outputs"] && !item["no_outputs_from"])
          reporter_.error(item, fmt::format("{} expects nothing: give outputs: or no_outputs_from:", who),
                          "for example outputs: [{extract_from: STAGE, count: 1}]");
      }
      tests.push_back(std::move(test));
    }
    return tests;
  }

  std::optional<std::string> read_test_stage(const YAML::Node& node, const PipelineSpec& spec, const std::string& what) {
    auto name = read_string(node, what);
    if (!name) return std::nullopt;
    if (!spec.stage(*name)) {
      std::vector<std::string> stages;
      for (const StageSpec& stage : spec.stages) stages.push_back(stage.name);
      std::string hint = did_you_mean(*name, stages);
      reporter_.error(node, fmt::format("{}: unknown stage '{}'", what, *name),
                      hint.empty() ? "the stages are " + one_of(stages) : std::move(hint));
      return std::nullopt;
    }
    return name;
  }

  TestInput read_test_input(const YAML::Node& node, const PipelineSpec& spec, const std::string& who) {
    TestInput input;
    input.position = reporter_.place(node).position;
    read_map(node, who + ": an input",
             {{"insert_at",
               [&](const YAML::Node& value) {
                 auto stage = read_test_stage(value, spec, who + ": insert_at");
                 if (!stage) return;
                 input.stage = *stage;
                 if (spec.stage(*stage)->kind == Kind::sink)
                   reporter_.error(value, fmt::format("{}: insert_at: '{}' is a sink", who, *stage),
                                   "weir test replaces sinks by collectors: insert at a source or a processor");
               }},
              {"payload",
               [&](const YAML::Node& value) {
                 if (value.IsScalar()) input.payload = value.Scalar();
                 else reporter_.error(value, fmt::format("{}: payload must be text, found {}", who, describe(value)));
               }},
              {"attributes",
               [&](const YAML::Node& value) {
                 walk_map(value, {}, who + ": attributes",
                          [&](const std::string& name, const YAML::Node& text, const YAML::Node&) {
                            if (text.IsScalar()) input.attributes.set(name, text.Scalar());
                            else
                              reporter_.error(text, fmt::format("{}: attribute '{}' must be text, found {}", who, name,
                                                                describe(text)));
                          });
               }},
              {"priority", [&](const YAML::Node& value) {
                 const std::string& text = value.IsScalar() ? value.Scalar() : std::string();
                 auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), input.priority);
                 if (text.empty() || error != std::errc() || end != text.data() + text.size())
                   reporter_.error(value,
                                   fmt::format("{}: priority must be a whole number, found {}", who, describe(value)));
               }}});
    if (node.IsMap() && !node["insert_at"])
      reporter_.error(node, fmt::format("{}: an input needs insert_at:", who), "name the stage it enters");
    return input;
  }

  TestOutput read_test_output(const YAML::Node& node, const PipelineSpec& spec, const std::string& who) {
    TestOutput output;
    output.position = reporter_.place(node).position;
    read_map(node, who + ": an output",
             {{"extract_from",
               [&](const YAML::Node& value) {
                 if (auto stage = read_test_stage(value, spec, who + ": extract_from")) output.stage = *stage;
               }},
              {"conditions",
               [&](const YAML::Node& value) {
                 for (const YAML::Node& entry : items(value))
                   if (auto condition = read_condition(entry, who + ": condition"))
                     output.conditions.push_back(std::move(*condition));
               }},
              {"count", [&](const YAML::Node& value) {
                 if (auto n = read_count(value, who + ": count", 0)) output.count = *n;
               }}});
    if (node.IsMap() && !node["extract_from"])
      reporter_.error(node, fmt::format("{}: an output needs extract_from:", who), "name the stage whose output it checks");
    return output;
  }

 private:
  // A count, `auto`, or {min: N, max: M} (replicas that size themselves).
  void read_replicas(const YAML::Node& node, const std::string& what, StageSpec& stage) {
    // Saturated, not wrapped: the graph check then says it is too many.
    const auto saturated = [](std::uint64_t n) {
      return static_cast<unsigned>(std::min<std::uint64_t>(n, std::numeric_limits<unsigned>::max()));
    };
    if (node.IsScalar() && node.Scalar() == "auto") {
      stage.autoscale = autoscale_auto;
      stage.replicas = autoscale_auto.min;
      return;
    }
    if (node.IsMap()) {
      Autoscale range{1, 0};
      bool has_max = false;
      read_map(node, what,
               {{"min",
                 [&](const YAML::Node& value) {
                   if (auto n = read_count(value, what + ".min", 1, 0)) range.min = saturated(*n);
                 }},
                {"max", [&](const YAML::Node& value) {
                   if (auto n = read_count(value, what + ".max", 1, 0)) {
                     range.max = saturated(*n);
                     has_max = true;
                   }
                 }}});
      if (!has_max) {
        reporter_.error(node, fmt::format("{} needs max: the most replicas it may grow to", what),
                        "for example replicas: {min: 1, max: 8}, or replicas: auto (1 to 8)");
        return;
      }
      stage.autoscale = range;
      stage.replicas = range.min;
      return;
    }
    if (auto n = read_count(node, what, 1, 0)) stage.replicas = saturated(*n);
  }

  // `label` names the owner in messages: "stage 'workers'" or "defaults".
  void read_on_error(const YAML::Node& node, ErrorPolicy& policy, Place* dead_letter_place, const std::string& label) {
    const std::string prefix = label == "defaults" ? "defaults.on_error" : label + ": on_error";
    read_map(node, fmt::format("on_error of {}", label),
             {{"retries",
               [&](const YAML::Node& value) {
                 if (auto n = read_count(value, prefix + ".retries", 0)) policy.retries = static_cast<unsigned>(*n);
               }},
              {"backoff",
               [&](const YAML::Node& value) {
                 if (auto d = read_duration(value, prefix + ".backoff")) policy.backoff = *d;
               }},
              {"max_backoff",
               [&](const YAML::Node& value) {
                 if (auto d = read_duration(value, prefix + ".max_backoff")) policy.max_backoff = *d;
               }},
              {"dead_letter", [&](const YAML::Node& value) {
                 if (auto name = read_string(value, prefix + ".dead_letter")) {
                   policy.dead_letter = *name;
                   if (dead_letter_place) *dead_letter_place = reporter_.place(value);
                 }
               }}});
  }

  void read_defaults(const YAML::Node& node, PipelineSpec& spec) {
    read_map(node, "defaults",
             {{"capacity",
               [&](const YAML::Node& value) {
                 default_capacity_ = reporter_.place(value);
                 if (auto n = read_count(value, "defaults.capacity", 1)) defaults_.capacity = *n;
               }},
              {"when_full",
               [&](const YAML::Node& value) {
                 default_when_full_ = reporter_.place(value);
                 if (auto policy = read_choice<WhenFull>(value, "defaults.when_full")) defaults_.when_full = *policy;
               }},
              {"drain_timeout",
               [&](const YAML::Node& value) {
                 if (auto d = read_duration(value, "defaults.drain_timeout")) spec.drain_timeout = *d;
               }},
              {"lane_policy",
               [&](const YAML::Node& value) {
                 if (auto policy = read_choice<LanePolicy>(value, "defaults.lane_policy"))
                   defaults_.lane_policy = *policy;
               }},
              {"on_error", [&](const YAML::Node& value) {
                 read_on_error(value, defaults_.on_error, nullptr, "defaults");
                 if (!defaults_.on_error.dead_letter.empty())
                   default_dead_letter_ = reporter_.place(value["dead_letter"]);
               }}});
  }

  void read_plugin_path(const YAML::Node& node, PipelineSpec& spec) {
    const std::vector<YAML::Node> entries = items(node);
    for (const YAML::Node& entry : entries) {
      auto folder = read_string(entry, "plugin_path");
      if (!folder) continue;
      fs::path path = fs::path(*folder);
      if (path.is_relative()) path = base_dir_ / path;
      path = path.lexically_normal();
      std::error_code error;
      if (!fs::is_directory(path, error)) {
        reporter_.error(entry, fmt::format("plugin_path folder '{}' does not exist", path.string()),
                        "plugin_path is relative to the pipeline file");
        continue;
      }
      spec.plugin_path.push_back(path);
    }
  }

  void read_input(const YAML::Node& node, StageDraft& draft) {
    const std::vector<YAML::Node> entries = items(node);
    if (entries.empty()) reporter_.error(node, fmt::format("stage '{}': input: is an empty list", draft.spec.name));
    for (const YAML::Node& entry : entries) {
      auto text = read_string(entry, fmt::format("stage '{}': input", draft.spec.name));
      if (!text) continue;
      std::optional<InputProblem> problem;
      draft.spec.inputs.push_back(parse_input(*text, draft.spec.name, problem));
      if (problem) reporter_.error(entry, std::move(problem->message), std::move(problem->hint));
      draft.places.inputs.push_back(reporter_.place(entry));
    }
  }

  void read_lanes(const YAML::Node& node, StageDraft& draft) {
    const std::string who = fmt::format("stage '{}'", draft.spec.name);
    if (!node.IsSequence() || node.size() == 0) {
      reporter_.error(node, fmt::format("{}: lanes: must be a list of lanes, highest priority first", who),
                      "for example lanes: [{name: urgent, when: 'priority > 5'}, {name: normal}]");
      return;
    }
    for (const YAML::Node& item : node) {
      LaneSpec lane;
      Place lane_when_text = reporter_.place(item);
      const std::string where = fmt::format("a lane of stage '{}'", draft.spec.name);
      read_map(item, where,
               {{"name",
                 [&](const YAML::Node& value) {
                   if (auto name = read_string(value, who + ": lane name")) lane.name = *name;
                 }},
                {"when",
                 [&](const YAML::Node& value) {
                   lane_when_text = reporter_.place_inside(value, 1);
                   lane.when = read_condition(value, fmt::format("{}: lane when", who));
                 }},
                {"capacity",
                 [&](const YAML::Node& value) {
                   if (auto n = read_count(value, who + ": lane capacity", 1)) lane.capacity = *n;
                 }},
                {"weight", [&](const YAML::Node& value) {
                   if (auto n = read_count(value, who + ": lane weight", 1)) lane.weight = static_cast<unsigned>(*n);
                 }}});
      if (item.IsMap() && !item["name"])
        reporter_.error(item, fmt::format("{}: every lane needs a name", who), "for example {name: urgent}");
      draft.spec.lanes.push_back(std::move(lane));
      draft.places.lane_items.push_back(reporter_.place(item));
      draft.places.lane_when_texts.push_back(lane_when_text);
    }
  }

  // The readers of the stage keys, one each (the table below names them).
  void read_stage_plugin(StageDraft& draft, const std::string& who, const YAML::Node& value, const YAML::Node&) {
    draft.plugin_node.reset(value);
    if (auto plugin = read_string(value, who + ": plugin")) draft.spec.plugin = *plugin;
  }
  void read_stage_kind(StageDraft& draft, const std::string& who, const YAML::Node& value, const YAML::Node&) {
    draft.places.kind = reporter_.place(value);
    draft.explicit_kind = read_choice<Kind>(value, who + ": kind");
  }
  void read_stage_input(StageDraft& draft, const std::string&, const YAML::Node& value, const YAML::Node&) {
    read_input(value, draft);
  }
  void read_stage_when(StageDraft& draft, const std::string& who, const YAML::Node& value, const YAML::Node&) {
    draft.places.when = reporter_.place(value);
    draft.places.when_text = reporter_.place_inside(value, 1);
    draft.spec.when = read_condition(value, who + ": when");
  }
  void read_stage_replicas(StageDraft& draft, const std::string& who, const YAML::Node& value, const YAML::Node&) {
    draft.places.replicas = reporter_.place(value);
    read_replicas(value, who + ": replicas", draft.spec);
  }
  void read_stage_capacity(StageDraft& draft, const std::string& who, const YAML::Node& value, const YAML::Node&) {
    draft.places.capacity = reporter_.place(value);
    if (auto n = read_count(value, who + ": capacity", 1, 0)) draft.spec.capacity = *n;
  }
  void read_stage_when_full(StageDraft& draft, const std::string& who, const YAML::Node& value, const YAML::Node&) {
    draft.places.when_full = reporter_.place(value);
    if (auto policy = read_choice<WhenFull>(value, who + ": when_full")) draft.spec.when_full = *policy;
  }
  void read_stage_lanes(StageDraft& draft, const std::string&, const YAML::Node& value, const YAML::Node&) {
    draft.places.lanes = reporter_.place(value);
    read_lanes(value, draft);
  }
  void read_stage_lane_policy(StageDraft& draft, const std::string& who, const YAML::Node& value, const YAML::Node&) {
    if (auto policy = read_choice<LanePolicy>(value, who + ": lane_policy")) draft.spec.lane_policy = *policy;
  }
  void read_stage_weights(StageDraft& draft, const std::string& who, const YAML::Node& value, const YAML::Node&) {
    draft.has_weights = true;
    draft.weights_node.reset(value);
    draft.places.weights = reporter_.place(value);
    if (!value.IsSequence()) {
      reporter_.error(value, fmt::format("{}: weights must be a list, one per lane", who), "for example weights: [8, 1]");
      return;
    }
    for (const YAML::Node& weight : value)
      if (auto n = read_count(weight, who + ": a weight", 1)) draft.weights.push_back(static_cast<unsigned>(*n));
  }
  void read_stage_on_error(StageDraft& draft, const std::string& who, const YAML::Node& value, const YAML::Node&) {
    read_on_error(value, draft.spec.on_error, &draft.places.dead_letter, who);
  }
  void read_stage_config(StageDraft& draft, const std::string&, const YAML::Node& value, const YAML::Node& key_node) {
    draft.has_config = true;
    draft.config_key.reset(key_node);
    draft.config.reset(value);
  }

  using StageKeyReader = void (Loader::*)(StageDraft&, const std::string& who, const YAML::Node& value,
                                          const YAML::Node& key_node);
  struct StageKey {
    std::string_view name;
    StageKeyReader read;
  };
  // Every stage key with its reader. walk_map accepts exactly these names, so
  // a key is read by its own reader or refused as unknown: none can fall
  // through to another key's reader.
  static constexpr StageKey stage_key_table[] = {
      {"plugin", &Loader::read_stage_plugin},         {"kind", &Loader::read_stage_kind},
      {"input", &Loader::read_stage_input},           {"when", &Loader::read_stage_when},
      {"replicas", &Loader::read_stage_replicas},     {"capacity", &Loader::read_stage_capacity},
      {"when_full", &Loader::read_stage_when_full},   {"lanes", &Loader::read_stage_lanes},
      {"lane_policy", &Loader::read_stage_lane_policy}, {"weights", &Loader::read_stage_weights},
      {"on_error", &Loader::read_stage_on_error},     {"config", &Loader::read_stage_config}};
  static constexpr std::array stage_keys = [] {
    std::array<std::string_view, std::size(stage_key_table)> names{};
    for (std::size_t i = 0; i < names.size(); ++i) names[i] = stage_key_table[i].name;
    return names;
  }();
  static const StageKey& stage_key(std::string_view name) {
    return *std::ranges::find(stage_key_table, name, &StageKey::name);  // walk_map let only these through
  }

  StageDraft read_stage(const std::string& name, const YAML::Node& key, const YAML::Node& body) {
    StageDraft draft;
    draft.key.reset(key);
    StageSpec& stage = draft.spec;
    stage.name = name;
    stage.capacity = defaults_.capacity;
    stage.when_full = defaults_.when_full;
    stage.lane_policy = defaults_.lane_policy;
    stage.on_error = defaults_.on_error;
    const Place at = reporter_.place(key);
    stage.position = at.position;
    draft.places = StagePlaces{at, at, at, default_capacity_.position.line ? default_capacity_ : at, at, at, at,
                               default_dead_letter_.position.line ? default_dead_letter_ : at,
                               {}, {}, default_when_full_.position.line ? default_when_full_ : at, at, {}};
    const std::string who = fmt::format("stage '{}'", name);

    if (name.find('.') != std::string::npos)
      reporter_.error(key, fmt::format("{}: a stage name cannot contain '.'", who),
                      "'.unmatched' after a stage name has a meaning of its own");
    if (!body.IsMap()) {
      reporter_.error(body.IsNull() ? key : body, fmt::format("{} must be a map with at least plugin:", who),
                      "for example {plugin: stdout, input: jobs}");
      return draft;
    }
    walk_map(body, stage_keys, who, [&](const std::string& k, const YAML::Node& value, const YAML::Node& key_node) {
      (this->*stage_key(k).read)(draft, who, value, key_node);
    });
    if (!body["plugin"])
      reporter_.error(key, fmt::format("{} has no plugin:", who), "say which plugin runs it, e.g. plugin: stdout");
    return draft;
  }

  // An explicit kind wins; the others are inferred (config/assembly.hpp).
  void infer_kinds(std::vector<StageDraft>& drafts) {
    StageReferences references;
    for (const StageDraft& draft : drafts) references.add(draft.spec);
    for (StageDraft& draft : drafts)
      draft.spec.kind = draft.explicit_kind ? *draft.explicit_kind : infer_kind(draft.spec, references, registry_);
  }

  void resolve_plugin(StageDraft& draft) {
    StageSpec& stage = draft.spec;
    if (stage.plugin.empty()) return;
    const std::string who = fmt::format("stage '{}'", stage.name);
    const auto entries = registry_.find_all(stage.plugin);
    if (entries.empty()) {
      std::string hint = did_you_mean(stage.plugin, registry_.names());
      if (hint.empty() && registry_.all().empty()) {
        std::vector<std::string> folders;
        for (const auto& folder : registry_.searched()) folders.push_back(folder.string());
        hint = folders.empty() ? "no plugins are loaded" : "no plugins were found in " + one_of(folders);
      } else if (hint.empty()) {
        hint = "`weir plugins` lists them";
      }
      reporter_.error(draft.plugin_node, fmt::format("{}: unknown plugin '{}'", who, stage.plugin), std::move(hint));
      return;
    }
    const PluginEntry* entry = registry_.find(stage.plugin, stage.kind);
    if (!entry) {
      std::vector<std::string> kinds;
      for (const PluginEntry* e : entries) kinds.emplace_back(to_string(e->kind()));
      const Place at = draft.explicit_kind ? draft.places.kind : reporter_.place(draft.plugin_node);
      reporter_.error(at,
                      fmt::format("{}: there is no {} plugin '{}'; '{}' is a {}", who, to_string(stage.kind),
                                  stage.plugin, stage.plugin, one_of(kinds)),
                      draft.explicit_kind ? fmt::format("use kind: {}", kinds.front())
                                          : fmt::format("its place in the graph makes it a {}; say kind: to choose",
                                                        to_string(stage.kind)));
      return;
    }
    const Place options_place = draft.has_config ? reporter_.place(draft.config_key) : draft.places.stage;
    configure_plugin_stage(stage, *entry, draft.config, options_place, draft.places.stage, reporter_);
  }

  void apply_weights(StageDraft& draft) {
    StageSpec& stage = draft.spec;
    if (!draft.has_weights) return;
    const std::string who = fmt::format("stage '{}'", stage.name);
    if (stage.lane_policy != LanePolicy::weighted)
      reporter_.error(draft.weights_node, fmt::format("{}: weights apply only with lane_policy: weighted", who),
                      "add lane_policy: weighted");
    if (draft.weights_node.IsSequence() && draft.weights_node.size() != stage.lanes.size()) {
      reporter_.error(draft.weights_node,
                      fmt::format("{}: {} weights for {} lanes", who, draft.weights_node.size(), stage.lanes.size()),
                      "give one weight per lane, in lane order");
      return;
    }
    if (draft.weights.size() == stage.lanes.size())
      for (std::size_t i = 0; i < stage.lanes.size(); ++i) stage.lanes[i].weight = draft.weights[i];
  }

  PluginRegistry& registry_;
  fs::path base_dir_;
  Defaults defaults_;
  Place default_dead_letter_;
  Place default_when_full_;
  Place default_capacity_;
  WarningLimits limits_;
  AddPlugins add_plugins_;
};

// The YAML within its limits, or a ConfigError at the syntax error.
YAML::Node parse(const std::string& yaml, const std::string& name) {
  try {
    if (auto over = check_yaml_limits(yaml, name)) throw ConfigError({std::move(*over)});
    return YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    throw ConfigError({Diagnostic{name, e.mark.line + 1, e.mark.column + 1, "YAML syntax: " + e.msg,
                                  yaml_syntax_hint(yaml, static_cast<std::size_t>(std::max(e.mark.pos, 0)))}});
  }
}

std::vector<PipelineTest> load_tests(const std::string& yaml, const PipelineSpec& spec, const std::string& name,
                                     const fs::path& base_dir) {
  Reporter reporter(name);
  YAML::Node root = parse(yaml, name);
  interpolate_environment(root, yaml, process_environment(), reporter);
  PluginRegistry no_plugins;
  std::vector<PipelineTest> tests = Loader(reporter, no_plugins, base_dir, yaml, {}).load_tests(root, spec);
  if (reporter.has_errors()) throw ConfigError(reporter.take_sorted());
  return tests;
}

}  // namespace

PipelineSpec load_pipeline(const std::string& yaml, PluginRegistry& registry, const std::vector<Override>& overrides,
                           const std::string& name, const fs::path& base_dir, const WarningLimits& limits,
                           const AddPlugins& add_plugins) {
  Reporter reporter(name);
  YAML::Node root = parse(yaml, name);
  apply_overrides(root, overrides, reporter);
  interpolate_environment(root, yaml, process_environment(), reporter);
  PipelineSpec spec = Loader(reporter, registry, base_dir, yaml, limits, add_plugins).load(root);
  if (reporter.has_errors()) throw ConfigError(reporter.take_sorted());
  spec.warnings = reporter.take_sorted();
  return spec;
}

std::string read_pipeline_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw ConfigError({Diagnostic{file.string(), 0, 0, fmt::format("cannot read the file: {}", std::strerror(errno)), {}}});
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace config

std::vector<PipelineTest> load_pipeline_tests(const std::filesystem::path& file, const PipelineSpec& spec) {
  return config::load_tests(config::read_pipeline_file(file), spec, file.string(),
                            std::filesystem::absolute(file).parent_path());
}

PipelineSpec load_pipeline_string(const std::string& yaml, PluginRegistry& registry,
                                  const std::vector<Override>& overrides, const std::string& name,
                                  const std::filesystem::path& base_dir, const WarningLimits& limits) {
  return config::load_pipeline(yaml, registry, overrides, name, base_dir, limits, {});
}

PipelineSpec load_pipeline_file(const std::filesystem::path& file, PluginRegistry& registry,
                                const std::vector<Override>& overrides, const WarningLimits& limits) {
  const std::filesystem::path base_dir = std::filesystem::absolute(file).parent_path();
  PipelineSpec spec =
      config::load_pipeline(config::read_pipeline_file(file), registry, overrides, file.string(), base_dir, limits, {});
  spec.file = file;
  return spec;
}

}  // namespace weir
