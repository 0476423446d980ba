#pragma once
// Warnings: pipelines that run, but not as their author probably meant.
// Shared by the YAML loader (which knows where each key is) and
// pipeline_warnings() (for specs built in code).

#include "config/graph_check.hpp"

#include <weir/config.hpp>

namespace weir::config {

void check_warnings(const PipelineSpec& spec, const std::vector<StagePlaces>& places, const WarningLimits& limits,
                    Reporter& reporter);

}  // namespace weir::config
