#include "config/assembly.hpp"

#include "config/option_values.hpp"
#include "config/stage_construction.hpp"

#include <fmt/format.h>

namespace weir::config {

void load_plugin_folders(PluginRegistry& registry, const std::vector<std::filesystem::path>& plugin_path) {
  const bool host_registered = registry.has_plugins();
  registry.load_folders(plugin_path);
  if (!host_registered) registry.load_folders(PluginRegistry::default_search_path());
}

InputRef parse_input(std::string_view text, std::string_view stage_name, std::optional<InputProblem>& problem) {
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos) return InputRef{std::string(text), false};
  const std::string suffix(text.substr(dot + 1));
  if (suffix != "unmatched")
    problem = InputProblem{
        fmt::format("stage '{}': input '{}': only '.unmatched' may follow a stage name", stage_name, text),
        suffix.find('.') == std::string::npos ? did_you_mean(suffix, {"unmatched"}) : std::string()};
  return InputRef{std::string(text.substr(0, dot)), true};
}

void StageReferences::add(const StageSpec& stage) {
  for (const InputRef& input : stage.inputs) read_from.insert(input.stage);
  if (!stage.on_error.dead_letter.empty()) dead_letter_targets.insert(stage.on_error.dead_letter);
}

Kind infer_kind(const StageSpec& stage, const StageReferences& references, const PluginRegistry& registry) {
  const auto entries = registry.find_all(stage.plugin);
  if (entries.size() == 1) return entries.front()->kind();
  if (stage.inputs.empty() && !references.dead_letter_targets.count(stage.name)) return Kind::source;
  if (!references.read_from.count(stage.name) && (entries.empty() || registry.find(stage.plugin, Kind::sink)))
    return Kind::sink;
  return Kind::processor;
}

void configure_plugin_stage(StageSpec& stage, const PluginEntry& plugin, const YAML::Node& config,
                            const Place& options_place, const Place& stage_place, Reporter& reporter) {
  const std::size_t errors_before = reporter.error_count();
  stage.options = validate_options(config, plugin, stage.name, options_place, reporter);
  if (reporter.error_count() == errors_before) check_construction(stage, plugin, config, stage_place, reporter);
}

}  // namespace weir::config
