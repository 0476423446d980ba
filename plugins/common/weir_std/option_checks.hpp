#pragma once
// Option reading shared by the standard plugins: tolerant reading of nested
// values (a list of maps arrives with whatever scalar types the YAML had),
// rejected with weir::reject_option so the loader places the problem.

#include <weir/plugin.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

namespace weir::weir_std {

// A duration option as a client library's timeout in whole milliseconds,
// at least 1 (to such libraries 0 means "do not wait" or "wait forever").
inline std::int64_t milliseconds(Value::Duration d) {
  return std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

// Host programs and tests may construct a stage without a logger.
inline std::shared_ptr<spdlog::logger> logger_for(const StageContext& context) {
  return context.logger ? context.logger : spdlog::default_logger();
}

inline std::int64_t integer_of(std::string_view option, const Value& value) {
  if (value.is_integer()) return value.as_integer();
  if (value.is_string()) {
    const std::string& text = value.as_string();
    std::int64_t parsed = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (error == std::errc() && end == text.data() + text.size()) return parsed;
  }
  reject_option(option, fmt::format("'{}' is not an integer", value.to_text()), "a whole number");
}

// A nested number, or NaN when the value is none.
inline double number_of(const Value& value) {
  if (value.is_number()) return value.as_number();
  if (value.is_string()) {
    const std::string& text = value.as_string();
    double parsed = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (error == std::errc() && end == text.data() + text.size()) return parsed;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace weir::weir_std
