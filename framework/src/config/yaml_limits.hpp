#pragma once
// Limits on the shape of a pipeline file, checked in one streaming pass before
// the document is built: how deeply collections nest, and how many values the
// file stands for once every alias is expanded (a few lines of anchors can
// stand for billions: "billion laughs"). Over a limit, the diagnostic is at
// the collection or alias that goes over.

#include <weir/diagnostics.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weir::config {

inline constexpr int max_yaml_depth = 64;
inline constexpr std::uint64_t max_yaml_values = 1'000'000;

// The first limit `yaml` goes over, or nothing. Throws YAML::ParserException
// when the text is not YAML.
std::optional<Diagnostic> check_yaml_limits(std::string_view yaml, const std::string& file);

}  // namespace weir::config
