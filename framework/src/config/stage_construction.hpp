#pragma once
// Validation constructs every stage: one instance per stage, its constructor
// only (never start()), so the plugin's own checks of its options run when the
// pipeline loads, in `weir validate` as in `weir run`, and each problem is
// reported at the option it names.

#include "config/reporter.hpp"

#include <weir/registry.hpp>
#include <weir/spec.hpp>

#include <yaml-cpp/yaml.h>

namespace weir::config {

// `config` is the stage's `config:` map (may be undefined); `stage_place` is
// where problems that name no option go.
void check_construction(const StageSpec& stage, const PluginEntry& plugin, const YAML::Node& config,
                        const Place& stage_place, Reporter& reporter);

}  // namespace weir::config
