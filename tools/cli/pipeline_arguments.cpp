#include "pipeline_arguments.hpp"

#include <weir/options.hpp>

#include <functional>

namespace weir::cli {

namespace {

// A CLI11 option that takes a size (`512`, `64KiB`, `16MiB`) into `bytes`.
CLI::Option* add_size_option(CLI::App& command, const std::string& name, const std::string& description,
                             std::function<void(std::size_t)> store) {
  return command
      .add_option_function<std::string>(
          name,
          [store = std::move(store), name](const std::string& text) {
            const auto size = parse_size(text);
            if (!size) throw CLI::ValidationError(name, "expected a size such as 512, 64KiB or 16MiB, found '" + text + "'");
            store(static_cast<std::size_t>(size->bytes));
          },
          description)
      ->type_name("SIZE");
}

}  // namespace

void PipelineArguments::add_to(CLI::App& command) {
  command.add_option("FILE", file, "The pipeline YAML")->required();
  command.add_option("--set", sets,
                     "Override a value: stage.config.key=value, stage.replicas=2, defaults.capacity=64 (repeatable)");
  command.add_option("--plugin-path", plugin_path, "Also load plugins from DIR, before the default folders (repeatable)");
  add_size_option(command, "--max-memory",
                  "Warn when the channels can hold more than SIZE (every slot full of --max-message-size)",
                  [this](std::size_t bytes) { limits.max_memory = bytes; });
  add_size_option(command, "--max-message-size", "The largest message expected, for --max-memory (default 64KiB)",
                  [this](std::size_t bytes) { limits.max_message_size = bytes; });
}

std::vector<Diagnostic> as_errors(std::vector<Diagnostic> warnings) {
  for (Diagnostic& d : warnings) d.severity = Severity::error;
  return warnings;
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
  return load_pipeline_file(file, registry, overrides, limits);
}

}  // namespace weir::cli
