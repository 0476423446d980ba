#pragma once
// `--set stage.key=value`: applied to the YAML tree before it is validated, so
// an override is checked exactly like the file; its problems name the override.

#include "config/reporter.hpp"

#include <weir/config.hpp>

#include <yaml-cpp/yaml.h>

#include <vector>

namespace weir::config {

void apply_overrides(YAML::Node& root, const std::vector<Override>& overrides, Reporter& reporter);

}  // namespace weir::config
