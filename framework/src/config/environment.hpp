#pragma once
// `${NAME}` and `${NAME:-default}` in YAML values: replaced by environment
// variables in the parsed tree, before any value is read as a number, a
// duration or a condition, so `capacity: ${CAP}` works. A variable stands for
// one scalar, never for YAML structure: a value cannot add keys or stages.
// `$${` is a literal `${` (as in Vector).

#include "config/reporter.hpp"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace weir::config {

// The value of an environment variable, or none when it is not set.
using Lookup = std::function<std::optional<std::string>(const std::string& name)>;
Lookup process_environment();

// A problem inside one scalar's text: `offset` is where its `$` is.
struct InterpolationProblem {
  std::size_t offset;
  std::string message;
  std::string hint;
};

// `text` with its references replaced; the problems, if any, in `problems`
// (a reference that is in error is left as written).
std::string interpolate(std::string_view text, const Lookup& lookup, std::vector<InterpolationProblem>& problems);

// Every scalar value of `root` (not keys) interpolated in place. `source` is
// the YAML text the tree was parsed from, for the line and column of each `$`.
void interpolate_environment(YAML::Node& root, std::string_view source, const Lookup& lookup, Reporter& reporter);

}  // namespace weir::config
