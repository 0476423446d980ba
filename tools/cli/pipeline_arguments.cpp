#include "pipeline_arguments.hpp"

namespace weir::cli {

void PipelineArguments::add_to(CLI::App& command) {
  command.add_option("FILE", file, "The pipeline YAML")->required();
  command.add_option("--set", sets, "Override a value: stage.config.key=value, stage.replicas=2 (repeatable)");
  command.add_option("--plugin-path", plugin_path, "Also load plugins from DIR, before the default folders (repeatable)");
}

PipelineSpec PipelineArguments::load(PluginRegistry& registry) const {
  std::vector<Override> overrides;
  std::vector<Diagnostic> malformed;
  for (const std::string& text : sets) {
    try {
      overrides.push_back(parse_override(text));
    } catch (const ConfigError& e) {
      malformed.insert(malformed.end(), e.diagnostics().begin(), e.diagnostics().end());
    }
  }
  if (!malformed.empty()) throw ConfigError(std::move(malformed));
  // With extra folders the registry is no longer empty, and the loader would
  // skip the default folders; so load them here, after the extra ones.
  if (!plugin_path.empty()) {
    std::vector<std::filesystem::path> folders(plugin_path.begin(), plugin_path.end());
    for (auto& folder : PluginRegistry::default_search_path()) folders.push_back(std::move(folder));
    registry.load_folders(folders);
  }
  return load_pipeline_file(file, registry, overrides);
}

}  // namespace weir::cli
