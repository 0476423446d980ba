#pragma once
// The rules that assemble a pipeline from its stages, declared once: the YAML
// loader (pipeline_loader.cpp) and the code builder (embed/builder.cpp) both
// call them, so a pipeline means the same written either way.

#include "config/reporter.hpp"

#include <weir/registry.hpp>
#include <weir/spec.hpp>

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace weir::config {

// ---- plugin folders ----
// Loads a pipeline's plugins into `registry` in the order `weir run` uses:
// the pipeline's own plugin_path first, then the default search path, unless
// the registry already held plugins (a host program registered its own).
// A folder searched before is not loaded again.
void load_plugin_folders(PluginRegistry& registry, const std::vector<std::filesystem::path>& plugin_path);

// ---- inputs ----
// What is wrong with an input's text, said the same way by both.
struct InputProblem {
  std::string message;
  std::string hint;
};
// `stage` or `stage.unmatched`. Any other text after the first '.' is a
// problem (in `problem`); the input is still read as `stage.unmatched`, as
// most likely meant, so the graph checks don't add "nobody feeds" to it.
InputRef parse_input(std::string_view text, std::string_view stage_name, std::optional<InputProblem>& problem);

// ---- kinds ----
// Which stages the others name: as an input, or as their dead-letter target.
struct StageReferences {
  std::set<std::string> read_from;
  std::set<std::string> dead_letter_targets;
  void add(const StageSpec& stage);
};
// The contract's rules for a stage whose kind is not written: a plugin name
// that exists in one kind only settles it; otherwise the stage's place in the
// graph does (no inputs and no dead letters sent to it: a source; read by
// nobody, where the plugin has a sink: a sink; else a processor). A source
// that is a dead-letter target keeps reading as a source for the graph check,
// which says what is wrong.
Kind infer_kind(const StageSpec& stage, const StageReferences& references, const PluginRegistry& registry);

// ---- options ----
// A plugin stage's `config:` (may be undefined) checked against the plugin's
// schema into stage.options; then, only if the schema accepted it, the stage
// constructed once so the plugin's own checks run. `options_place` is where
// missing options are reported, `stage_place` problems that name no option.
void configure_plugin_stage(StageSpec& stage, const PluginEntry& plugin, const YAML::Node& config,
                            const Place& options_place, const Place& stage_place, Reporter& reporter);

}  // namespace weir::config
