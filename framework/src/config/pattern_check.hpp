#pragma once
// Regular expressions in options (`regex` kind) are checked with RE2, the
// engine whose syntax the contract names, when the pipeline loads.

#include <optional>
#include <string>
#include <string_view>

namespace weir::config {

struct PatternProblem {
  std::string message;
  int column = 0;  // 1-based inside the pattern; 0 when RE2 does not say
};

std::optional<PatternProblem> pattern_problem(std::string_view pattern);

}  // namespace weir::config
