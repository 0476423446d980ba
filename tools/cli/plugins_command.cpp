// `weir plugins`: what plugins there are, what one of them takes, and the
// reference pages generated from their declarations.
//
//   weir plugins [--json] [--plugin-path DIR]...        every plugin and load problem
//   weir plugins NAME [--json] [--plugin-path DIR]...   one plugin: options, example
//   weir plugins --docs DIR [--plugin-path DIR]...      Markdown pages into DIR

#include "command.hpp"
#include "plugin_table.hpp"
#include "plugin_text.hpp"
#include "terminal.hpp"

#include <weir/registry.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>

namespace weir::cli {

namespace {

namespace fs = std::filesystem;

struct PluginsArguments {
  std::string name;
  bool json = false;
  std::string docs_folder;
  std::vector<std::string> plugin_path;
};

PluginRegistry load_registry(const std::vector<std::string>& plugin_path) {
  std::vector<fs::path> folders(plugin_path.begin(), plugin_path.end());
  for (fs::path& folder : PluginRegistry::default_search_path()) folders.push_back(std::move(folder));
  PluginRegistry registry;
  registry.load_folders(folders);
  return registry;
}

// `FILE: error: reason`, as `weir validate` words its problems; a warning
// when the problem does not concern what was asked for.
void print_problems(const PluginRegistry& registry, std::string_view severity) {
  for (const Diagnostic& problem : registry.problems())
    std::cerr << fmt::format("{}: {}: {}\n", problem.file, severity, problem.message);
}

// At the width they would take, when even a fitted table cannot fit.
constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

std::string laid_out(const TextTable& table, std::size_t width) {
  if (auto fitted = fitted_text_table(table, width)) return *fitted;
  return *fitted_text_table(table, unlimited);
}

nlohmann::json option_json(const OptionSpec& spec) {
  nlohmann::json out{{"name", spec.name},
                     {"type", to_string(spec.type)},
                     {"required", spec.required},
                     {"description", spec.description}};
  if (spec.type == OptionType::list || spec.type == OptionType::map) out["element"] = to_string(spec.element);
  out["default"] = spec.default_value ? nlohmann::json(*spec.default_value) : nlohmann::json(nullptr);
  if (spec.min) out["min"] = *spec.min;
  if (spec.max) out["max"] = *spec.max;
  if (!spec.allowed.empty()) out["allowed"] = spec.allowed;
  if (!spec.example.empty()) out["example"] = spec.example;
  return out;
}

nlohmann::json plugin_json(const PluginEntry& plugin, bool detailed) {
  nlohmann::json out{{"name", plugin.name()},
                     {"kind", to_string(plugin.kind())},
                     {"description", plugin.description()},
                     {"library", plugin.library_file().string()}};
  if (detailed) {
    out["options"] = nlohmann::json::array();
    for (const OptionSpec& spec : plugin.options()) out["options"].push_back(option_json(spec));
    out["example"] = plugin.example();
  }
  return out;
}

nlohmann::json registry_json(const PluginRegistry& registry, const std::vector<const PluginEntry*>& plugins,
                             bool detailed) {
  nlohmann::json out{{"plugins", nlohmann::json::array()},
                     {"problems", nlohmann::json::array()},
                     {"searched", nlohmann::json::array()}};
  for (const PluginEntry* plugin : plugins) out["plugins"].push_back(plugin_json(*plugin, detailed));
  for (const Diagnostic& problem : registry.problems())
    out["problems"].push_back({{"file", problem.file}, {"message", problem.message}});
  for (const fs::path& folder : registry.searched()) out["searched"].push_back(folder.string());
  return out;
}

// One plugin, in lines that fit `width`: the options as a table when it
// fits, else one block per option.
std::string describe(const PluginEntry& plugin, std::size_t width) {
  std::ostringstream out;
  out << fmt::format("{} ({})\n", plugin.name(), to_string(plugin.kind()))
      << wrapped_text(plugin.description(), width, "  ")
      << wrapped_text(fmt::format("library: {}", plugin.library_file().string()), width, "  ") << '\n';
  const auto options = plugin.options();
  if (options.empty()) {
    out << "Options: none\n";
  } else {
    out << "Options:\n";
    std::vector<std::vector<std::string>> rows{
        {"NAME", "TYPE", "DEFAULT", "REQUIRED", "RANGE/ALLOWED", "MEANING", "EXAMPLE"}};
    for (const OptionSpec& spec : options) {
      const std::string fallback = option_default_text(spec);
      const std::string range = option_range_text(spec);
      rows.push_back({std::string(spec.name), option_type_text(spec), fallback.empty() ? "-" : fallback,
                      spec.required ? "yes" : "no", range.empty() ? "-" : range, std::string(spec.description),
                      spec.example.empty() ? "-" : std::string(spec.example)});
    }
    // A meaning squeezed under 24 columns reads worse than one block per option.
    if (auto fitted = fitted_text_table({rows, {false, false, true, false, true, true, true}, "  "}, width, 24)) {
      out << *fitted;
    } else {
      for (std::size_t i = 1; i < rows.size(); ++i) {
        const auto& row = rows[i];
        std::string about = row[1];
        if (row[2] != "-") about += ", default " + row[2];
        if (row[3] == "yes") about += ", required";
        if (row[4] != "-") about += ", " + row[4];
        out << wrapped_text(fmt::format("{}  ({})", row[0], about), width, "  ")
            << wrapped_text(row[5], width, "      ");
        if (row[6] != "-") out << wrapped_text("example: " + row[6], width, "      ");
      }
    }
    if (const auto kinds = accepted_kinds(options); !kinds.empty()) {
      out << "\nKinds (checked when a pipeline loads):\n";
      for (const auto& [kind, text] : kinds) out << wrapped_text(fmt::format("{}: {}", kind, text), width, "  ");
    }
  }
  if (!plugin.example().empty()) {
    out << "\nExample stage:\n";
    std::istringstream lines{std::string(plugin.example())};
    for (std::string line; std::getline(lines, line);) out << "  " << line << '\n';
  }
  return out.str();
}

int list(const PluginsArguments& args, const PluginRegistry& registry) {
  const auto plugins = registry.all();
  if (args.json) {
    std::cout << registry_json(registry, plugins, false).dump(2) << '\n';
  } else if (plugins.empty()) {
    std::vector<std::string> folders;
    for (const fs::path& f : registry.searched()) folders.push_back(f.string());
    std::cout << fmt::format("no plugins found; searched: {}\n", fmt::join(folders, ", "));
  } else {
    const auto width = static_cast<std::size_t>(terminal_width(stdout));
    std::vector<std::vector<std::string>> rows{{"NAME", "KIND", "DESCRIPTION", "LIBRARY"}};
    for (const PluginEntry* plugin : plugins)
      rows.push_back({std::string(plugin->name()), std::string(to_string(plugin->kind())),
                      std::string(plugin->description()), plugin->library_file().string()});
    if (auto fitted = fitted_text_table({rows, {false, false, true, false}, ""}, width, 30)) {
      std::cout << *fitted;
    } else {
      // Too narrow for the paths too: they go below, by folder.
      std::vector<std::string> folders;
      for (auto& row : rows) row.pop_back();
      for (const PluginEntry* plugin : plugins)
        if (const auto folder = plugin->library_file().parent_path().string();
            std::find(folders.begin(), folders.end(), folder) == folders.end())
          folders.push_back(folder);
      std::cout << laid_out({rows, {false, false, true}, ""}, width)
                << wrapped_text(fmt::format("libraries in {}; `weir plugins NAME` shows each one's",
                                            fmt::join(folders, ", ")),
                                width, "");
    }
  }
  // A library that cannot load is a broken installation: say so in the exit code.
  print_problems(registry, "error");
  return registry.problems().empty() ? exit_ok : exit_bad_input;
}

int show(const PluginsArguments& args, const PluginRegistry& registry) {
  const auto found = registry.find_all(args.name);
  if (found.empty()) throw PluginError(registry.not_found_message(args.name));
  std::vector<const PluginEntry*> sorted(found.begin(), found.end());
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->kind() < b->kind(); });
  if (args.json) {
    std::cout << registry_json(registry, sorted, true).dump(2) << '\n';
  } else {
    const auto width = static_cast<std::size_t>(terminal_width(stdout));
    for (std::size_t i = 0; i < sorted.size(); ++i) std::cout << (i ? "\n" : "") << describe(*sorted[i], width);
  }
  // Other libraries' problems do not stop this one being shown.
  print_problems(registry, "warning");
  return exit_ok;
}

int docs(const PluginsArguments& args, const PluginRegistry& registry) {
  if (!registry.problems().empty()) {
    print_problems(registry, "error");
    std::cerr << "error: no pages written: a plugin that failed to load would be missing from them\n";
    return exit_bad_input;
  }
  const auto written = write_plugin_docs(registry, args.docs_folder);
  std::cout << fmt::format("wrote {} pages to {}\n", written.size(), args.docs_folder);
  return exit_ok;
}

std::pair<CLI::App*, Runner> setup_plugins(CLI::App& app) {
  auto args = std::make_shared<PluginsArguments>();
  CLI::App* command = app.add_subcommand("plugins", "List plugins, or show one plugin's options and example");
  command->add_option("NAME", args->name, "Show this plugin (every kind of that name)");
  command->add_flag("--json", args->json, "Print JSON instead of text");
  command->add_option("--docs", args->docs_folder, "Write one Markdown reference page per plugin into this folder")
      ->excludes("NAME");
  command->add_option("--plugin-path", args->plugin_path,
                      "Search this folder first (repeatable); then WEIR_PLUGIN_PATH, then the built-in folder")
      ->allow_extra_args(false);
  return {command, [args]() {
            const PluginRegistry registry = load_registry(args->plugin_path);
            if (!args->docs_folder.empty()) return docs(*args, registry);
            if (!args->name.empty()) return show(*args, registry);
            return list(*args, registry);
          }};
}

const Registrar registrar{40, &setup_plugins};

}  // namespace

}  // namespace weir::cli
