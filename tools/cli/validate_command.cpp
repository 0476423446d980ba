// `weir validate FILE [--set k=v]... [--plugin-path DIR]...`: every problem
// of a pipeline at once, as FILE:LINE:COL: error: message (hint), exit 2; or a
// one-line summary and exit 0.

#include "command.hpp"
#include "pipeline_arguments.hpp"

#include <weir/registry.hpp>

#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <set>

namespace weir::cli {

namespace {

std::string plural(std::size_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

std::string summary(const PipelineSpec& spec, const std::string& file) {
  std::size_t counts[3] = {0, 0, 0};
  std::set<std::string> plugins;
  for (const StageSpec& stage : spec.stages) {
    ++counts[static_cast<int>(stage.kind)];
    plugins.insert(stage.plugin);
  }
  std::string plugin_list;
  for (const std::string& plugin : plugins) plugin_list += (plugin_list.empty() ? "" : ", ") + plugin;
  return fmt::format("{}: OK: pipeline '{}', {} ({}, {}, {}), plugins: {}", file, spec.name,
                     plural(spec.stages.size(), "stage"), plural(counts[0], "source"), plural(counts[1], "processor"),
                     plural(counts[2], "sink"), plugin_list);
}

std::pair<CLI::App*, Runner> setup(CLI::App& app) {
  auto arguments = std::make_shared<PipelineArguments>();
  CLI::App* command = app.add_subcommand("validate", "Check a pipeline: YAML, keys, plugins and their options, the "
                                                     "graph, conditions; every problem at once");
  arguments->add_to(*command);
  return {command, [arguments] {
            PluginRegistry registry;
            try {
              const PipelineSpec spec = arguments->load(registry);
              std::cout << summary(spec, arguments->file) << '\n';
              return exit_ok;
            } catch (const ConfigError& e) {
              for (const Diagnostic& d : e.diagnostics()) std::cerr << d.to_string() << '\n';
              std::cerr << fmt::format("{}: {} found\n", arguments->file, plural(e.diagnostics().size(), "problem"));
              return exit_bad_input;
            }
          }};
}

const Registrar registrar{20, &setup};

}  // namespace

}  // namespace weir::cli
