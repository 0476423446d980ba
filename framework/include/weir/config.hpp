#pragma once
// Loading pipeline YAML: every problem collected and thrown together as a
// ConfigError whose diagnostics say FILE:LINE:COL.

#include <weir/diagnostics.hpp>
#include <weir/registry.hpp>
#include <weir/spec.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace weir {

// `--set stage.config.key=value` (also `stage.capacity=64`, `stage.replicas=2`,
// any stage key): the value is YAML text, validated like the file.
struct Override {
  std::string path;   // stage.config.key
  std::string value;  // YAML scalar or flow text
};
// Parses `stage.config.key=value`; throws ConfigError when malformed.
Override parse_override(const std::string& text);

// Reads and validates a pipeline. The YAML's plugin_path folders are loaded
// into `registry` first, then the default search path (unless the registry
// already holds plugins, as in a host program that registered its own).
// Throws ConfigError listing every problem.
PipelineSpec load_pipeline_file(const std::filesystem::path& file, PluginRegistry& registry,
                                const std::vector<Override>& overrides = {});
// The same for YAML text; `name` stands for the file in diagnostics, and
// relative plugin_path entries are taken from `base_dir`.
PipelineSpec load_pipeline_string(const std::string& yaml, PluginRegistry& registry,
                                  const std::vector<Override>& overrides = {},
                                  const std::string& name = "<string>",
                                  const std::filesystem::path& base_dir = std::filesystem::current_path());

// Checks the graph of a spec built in code (the YAML loader runs the same
// checks): unknown inputs, cycles, sources with inputs, stages nobody feeds,
// missing dead-letter targets, lanes, `X.unmatched` without a conditional
// consumer. Throws ConfigError.
void validate_graph(const PipelineSpec& spec);

}  // namespace weir
