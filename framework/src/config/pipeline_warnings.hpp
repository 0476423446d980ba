#pragma once
// Warnings: pipelines that run, but not as their author probably meant.
// Shared by the YAML loader (which knows where each key is) and
// pipeline_warnings() (for specs built in code).

#include "config/graph_check.hpp"

#include <weir/config.hpp>

#include <functional>
#include <string>

namespace weir::config {

// Warns about each part of `condition` that reads nothing of the message (a
// literal compared with a literal, ...). `what` names it ("stage 'x': when");
// `at(column)` is where column `column` of its text is in the file.
void warn_constant_parts(const Condition& condition, const std::function<Place(int column)>& at,
                         const std::string& what, const std::string& whole_true_hint, Reporter& reporter);

void check_warnings(const PipelineSpec& spec, const std::vector<StagePlaces>& places, const WarningLimits& limits,
                    Reporter& reporter);

}  // namespace weir::config
