#pragma once
// The option kinds whose value is a text in a language of its own: a
// condition, a regular expression, a template. One check and one wording for
// the loader (config/option_values.cpp) and for options built in code
// (Options::scalar).

#include <weir/options.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace weir::detail {

struct OptionKindProblem {
  std::string message;
  int column = 0;    // 1-based inside the text; 0 when not known
  std::string hint;  // empty when there is none
};

// Null when `text` is a valid value of `type` (or `type` is not one of the
// kinds above).
std::optional<OptionKindProblem> check_option_kind(OptionType type, std::string_view text);

}  // namespace weir::detail
