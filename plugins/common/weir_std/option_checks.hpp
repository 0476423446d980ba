#pragma once
// Option reading shared by the standard plugins: errors that name the stage,
// the plugin and the option, and tolerant reading of nested values (a list of
// maps arrives with whatever scalar types the YAML had).

#include <weir/plugin.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

namespace weir::stdp {

// Configuration problems the schema cannot express (an invalid regular
// expression, an unreadable path) are thrown from constructors like this, so
// the message points at the YAML the user has to change.
[[noreturn]] inline void reject_option(const StageContext& context, std::string_view option,
                                       std::string_view problem, std::string_view expected) {
  throw PermanentError(fmt::format("stage '{}' (plugin '{}'): option '{}': {}; expected {}", context.stage,
                                   context.plugin, option, problem, expected));
}

// Host programs and tests may construct a stage without a logger.
inline std::shared_ptr<spdlog::logger> logger_for(const StageContext& context) {
  return context.logger ? context.logger : spdlog::default_logger();
}

// A nested scalar as text, whatever type the YAML gave it.
inline std::string scalar_text(const Value& value) {
  return value.is_string() ? value.as_string() : value.to_text();
}

inline Value::Duration duration_of(const StageContext& context, std::string_view option, const Value& value) {
  if (value.is_duration()) return value.as_duration();
  if (value.is_string())
    if (auto parsed = parse_duration(value.as_string())) return *parsed;
  reject_option(context, option, fmt::format("'{}' is not a duration", value.to_text()),
                "a duration such as 250ms, 30s or 2m");
}

inline std::int64_t integer_of(const StageContext& context, std::string_view option, const Value& value) {
  if (value.is_int()) return value.as_int();
  if (value.is_string()) {
    const std::string& text = value.as_string();
    std::int64_t parsed = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (error == std::errc() && end == text.data() + text.size()) return parsed;
  }
  reject_option(context, option, fmt::format("'{}' is not an integer", value.to_text()), "a whole number");
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

// An optional string option: absent and empty mean the same.
inline std::string string_or_empty(const Options& options, std::string_view name) {
  return options.has(name) && !options.at(name).is_null() ? scalar_text(options.at(name)) : std::string();
}

}  // namespace weir::stdp
