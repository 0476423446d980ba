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

  void add_to(CLI::App& command);
  // Throws ConfigError (every problem) or PluginError.
  PipelineSpec load(PluginRegistry& registry) const;
};

}  // namespace weir::cli
