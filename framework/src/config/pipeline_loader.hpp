#pragma once
// What the YAML loader offers the rest of the framework beyond config.hpp.

#include <weir/config.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace weir::config {

// Called once the pipeline's plugin folders are loaded and before its stages'
// plugins are looked up: a host program adds its own stages' plugins there.
using AddPlugins = std::function<void(PluginRegistry&)>;

// load_pipeline_string, with `add_plugins` (may be empty).
PipelineSpec load_pipeline(const std::string& yaml, PluginRegistry& registry, const std::vector<Override>& overrides,
                           const std::string& name, const std::filesystem::path& base_dir,
                           const WarningLimits& limits, const AddPlugins& add_plugins);

// A pipeline file's text, or a ConfigError saying why it cannot be read.
std::string read_pipeline_file(const std::filesystem::path& file);

}  // namespace weir::config
