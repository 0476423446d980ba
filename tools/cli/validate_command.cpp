// `weir validate FILE [--set k=v]... [--plugin-path DIR]... [--json] [--strict]
// [--max-memory SIZE] [--max-message-size SIZE]`: every problem of a pipeline
// at once, as FILE:LINE:COL: error: message (hint), exit 2; or a one-line
// summary and exit 0. Warnings (FILE:LINE:COL: warning: ...) do not change the
// exit code unless --strict. --json prints one object instead (docs/cli.md).

#include "command.hpp"
#include "pipeline_arguments.hpp"

#include <weir/registry.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
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

struct ValidateOptions {
  PipelineArguments pipeline;
  bool json = false;
  bool strict = false;
};

// {"file": F, "valid": B, "errors": N, "warnings": N, "diagnostics": [...]},
// each diagnostic as Diagnostic::to_json writes it.
std::string to_json(const std::string& file, const std::vector<Diagnostic>& diagnostics) {
  using Json = nlohmann::ordered_json;
  Json root;
  std::size_t errors = 0;
  Json list = Json::array();
  for (const Diagnostic& d : diagnostics) {
    errors += d.severity == Severity::error;
    list.push_back(Json::parse(d.to_json()));
  }
  root["file"] = file;
  root["valid"] = errors == 0;
  root["errors"] = errors;
  root["warnings"] = diagnostics.size() - errors;
  root["diagnostics"] = std::move(list);
  return root.dump(2, ' ', false, Json::error_handler_t::replace);
}

int validate(const ValidateOptions& options) {
  const std::string& file = options.pipeline.file;
  PluginRegistry registry;
  std::vector<Diagnostic> diagnostics;
  std::optional<PipelineSpec> spec;
  try {
    spec = options.pipeline.load(registry);
    diagnostics = options.strict ? as_errors(spec->warnings) : spec->warnings;
  } catch (const ConfigError& e) {
    diagnostics = options.strict ? as_errors(e.diagnostics()) : e.diagnostics();
  } catch (const PluginError& e) {
    diagnostics.push_back(Diagnostic{file, 0, 0, e.what(), {}});
  }
  const std::size_t errors = static_cast<std::size_t>(std::count_if(
      diagnostics.begin(), diagnostics.end(), [](const Diagnostic& d) { return d.severity == Severity::error; }));
  if (options.json) {
    std::cout << to_json(file, diagnostics) << '\n';
    return errors > 0 ? exit_bad_input : exit_ok;
  }
  for (const Diagnostic& d : diagnostics) std::cerr << d.to_string() << '\n';
  if (errors > 0) {
    std::cerr << fmt::format("{}: {} found{}\n", file, plural(errors, "problem"),
                             diagnostics.size() > errors ? fmt::format(", and {}", plural(diagnostics.size() - errors, "warning"))
                                                         : std::string());
    return exit_bad_input;
  }
  std::cout << summary(*spec, file) << '\n';
  if (!diagnostics.empty())
    std::cerr << fmt::format("{}: {} (--strict makes them errors)\n", file, plural(diagnostics.size(), "warning"));
  return exit_ok;
}

std::pair<CLI::App*, Runner> setup(CLI::App& app) {
  auto options = std::make_shared<ValidateOptions>();
  CLI::App* command = app.add_subcommand("validate", "Check a pipeline: YAML, keys, plugins and their options, the "
                                                     "graph, conditions; every problem at once");
  options->pipeline.add_to(*command);
  command->add_flag("--json", options->json,
                    "Print every error and warning as one JSON object on standard output (for editors and CI)");
  command->add_flag("--strict", options->strict, "Warnings are errors: exit 2 when there is any");
  return {command, [options] { return validate(*options); }};
}

const Registrar registrar{20, &setup};

}  // namespace

}  // namespace weir::cli
