#pragma once
// What `weir validate` and `weir graph` share: the pipeline file, --set
// overrides and extra plugin folders, and loading them into a spec.

#include <CLI/CLI.hpp>

#include <weir/config.hpp>

#include <string>
#include <vector>

namespace weir::cli {

struct PipelineArguments {
  std::string file;
  std::vector<std::string> sets;
  std::vector<std::string> plugin_path;
  WarningLimits limits;

  void add_to(CLI::App& command);
  // Throws ConfigError (every problem, warnings among them) or PluginError;
  // the warnings of a pipeline that loads are in its spec.
  PipelineSpec load(PluginRegistry& registry) const;
};

// With --strict a warning stops the pipeline as an error does.
std::vector<Diagnostic> as_errors(std::vector<Diagnostic> warnings);

}  // namespace weir::cli
