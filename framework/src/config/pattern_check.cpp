#include "config/pattern_check.hpp"

#include <re2/re2.h>

namespace weir::config {

std::optional<PatternProblem> pattern_problem(std::string_view pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  const RE2 compiled(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (compiled.ok()) return std::nullopt;
  // RE2 names the offending fragment; its first occurrence places it.
  const std::string& fragment = compiled.error_arg();
  const std::size_t at = fragment.empty() ? std::string_view::npos : pattern.find(fragment);
  return PatternProblem{compiled.error(), at == std::string_view::npos ? 0 : static_cast<int>(at) + 1};
}

}  // namespace weir::config
