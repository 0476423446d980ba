#pragma once
// Loading pipeline YAML: every problem collected and thrown together as a
// ConfigError whose diagnostics say FILE:LINE:COL.

#include <weir/diagnostics.hpp>
#include <weir/registry.hpp>
#include <weir/spec.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace weir {

// `--set stage.config.key=value` (also `stage.capacity=64`, `stage.replicas=2`,
// any stage key), `--set stages.NAME.KEY=value` (the same, for a stage named
// like a top-level key) and `--set defaults.KEY=value`: the value is YAML
// text, validated like the file.
struct Override {
  std::string path;   // stage.config.key
  std::string value;  // YAML scalar or flow text
};
// Parses `stage.config.key=value`; throws ConfigError when malformed.
Override parse_override(const std::string& text);

// What the warnings measure a pipeline against (`weir validate
// --max-message-size`, `--max-memory`).
struct WarningLimits {
  // The largest message expected, in bytes: the worst case of what one
  // channel slot holds.
  std::size_t max_message_size = 64 * 1024;
  // Bytes the channels may hold at worst (every slot full of the largest
  // message); none: no warning about memory.
  std::optional<std::size_t> max_memory;
};

// Reads and validates a pipeline. `${NAME}` and `${NAME:-default}` in values
// are replaced by environment variables first. The YAML's plugin_path folders are loaded
// into `registry` first, then the default search path (unless the registry
// already holds plugins, as in a host program that registered its own).
// Throws ConfigError listing every problem (errors, and the warnings found
// beside them); a pipeline with warnings only loads, with them in
// PipelineSpec::warnings.
PipelineSpec load_pipeline_file(const std::filesystem::path& file, PluginRegistry& registry,
                                const std::vector<Override>& overrides = {}, const WarningLimits& limits = {});
// The same for YAML text; `name` stands for the file in diagnostics, and
// relative plugin_path entries are taken from `base_dir`.
PipelineSpec load_pipeline_string(const std::string& yaml, PluginRegistry& registry,
                                  const std::vector<Override>& overrides = {},
                                  const std::string& name = "<string>",
                                  const std::filesystem::path& base_dir = std::filesystem::current_path(),
                                  const WarningLimits& limits = {});

// The tests of a side file (`weir test --tests FILE`): a map whose `tests:`
// is written as in a pipeline file, checked against `spec`'s stages. Throws
// ConfigError listing every problem, at its place in `file`.
std::vector<PipelineTest> load_pipeline_tests(const std::filesystem::path& file, const PipelineSpec& spec);

// Checks the graph of a spec built in code (the YAML loader runs the same
// checks): unknown inputs, cycles, sources with inputs, stages nobody feeds,
// missing dead-letter targets, lanes, `X.unmatched` without a conditional
// consumer. Throws ConfigError.
void validate_graph(const PipelineSpec& spec);

// What the loader warns about, for a spec built in code (PipelineBuilder
// puts them in the spec it builds): messages that can vanish unseen (all
// consumers conditional, no `.unmatched`), a drop policy where dead letters
// pass, conditions that never or always hold, channels that can hold more
// than limits.max_memory. Each at the stage's position.
std::vector<Diagnostic> pipeline_warnings(const PipelineSpec& spec, const WarningLimits& limits = {});

}  // namespace weir
