#pragma once
// Plugin options: YAML values checked against a plugin's OptionSpec table and
// turned into typed weir::Values.

#include "config/reporter.hpp"

#include <weir/options.hpp>
#include <weir/registry.hpp>

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

namespace weir::config {

// One problem with a value, at the YAML node it is about.
struct ValueProblem {
  YAML::Node at;
  std::string message;
  std::string hint;
  int column = 0;  // 1-based inside the scalar's text; 0: the whole node
};

// Converts `node` to the option's type; nullopt (and problems) when it is not.
std::optional<Value> convert_option(const YAML::Node& node, const OptionSpec& option,
                                    std::vector<ValueProblem>& problems);

// Checks a stage's `config:` map (may be undefined or null) against the
// plugin's schema, fills in defaults, and reports each problem. `stage_place`
// is where missing options are reported.
Options validate_options(const YAML::Node& config, const PluginEntry& plugin, const std::string& stage,
                         const Place& stage_place, Reporter& reporter);

}  // namespace weir::config
