#include "config/option_values.hpp"
#include "config/pipeline_warnings.hpp"
#include "config/yaml_reader.hpp"
#include "sdk/option_kinds.hpp"

#include <weir/condition.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace weir::config {

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

template <class Number>
std::optional<Number> parse_number(const std::string& text) {
  Number value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string format_limit(double limit, OptionType type) {
  if (type == OptionType::duration)
    return format_duration(std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(limit * 1e9))));
  if (type == OptionType::size) return format_size(Size{static_cast<std::uint64_t>(limit)});
  return fmt::format("{}", limit);
}

// min/max on integers, numbers and durations (in seconds).
bool within_range(const YAML::Node& node, double value, OptionType type, const OptionSpec& option,
                  const std::string& where, std::vector<ValueProblem>& problems) {
  const std::string shown = node.Scalar();
  if (option.min && value < *option.min) {
    problems.push_back({node, fmt::format("option '{}': {} is below the minimum", where, shown),
                        fmt::format("use at least {}", format_limit(*option.min, type))});
    return false;
  }
  if (option.max && value > *option.max) {
    problems.push_back({node, fmt::format("option '{}': {} is above the maximum", where, shown),
                        fmt::format("use at most {}", format_limit(*option.max, type))});
    return false;
  }
  return true;
}

// `where` names the value in messages: the option, or an element of it
// (`fields[1]`, `durations.email`), as a plugin's OptionError would.
std::optional<Value> convert(const YAML::Node& node, OptionType type, const OptionSpec& option,
                             const std::string& where, std::vector<ValueProblem>& problems, bool element);

std::optional<Value> convert_scalar(const YAML::Node& node, OptionType type, const OptionSpec& option,
                                    const std::string& where, std::vector<ValueProblem>& problems) {
  const std::string& text = node.Scalar();
  const auto wrong = [&]() {
    problems.push_back({node, fmt::format("option '{}': expected {} {}, found {}", where,
                                          type == OptionType::integer ? "an" : "a", to_string(type), describe(node)),
                        std::string(accepted_text(type))});
    return std::nullopt;
  };
  // A problem inside the text, at `column` (1-based) of it.
  const auto inside = [&](std::string what, int column, std::string hint = {}) {
    problems.push_back({node, fmt::format("option '{}': {}", where, what), std::move(hint), column});
    return std::nullopt;
  };
  switch (type) {
    case OptionType::string: return Value::of_string(text);
    case OptionType::integer: {
      auto value = parse_number<std::int64_t>(text);
      if (!value) return wrong();
      if (!within_range(node, static_cast<double>(*value), type, option, where, problems)) return std::nullopt;
      return Value::of_integer(*value);
    }
    case OptionType::number: {
      auto value = parse_number<double>(text);
      if (!value || !std::isfinite(*value)) return wrong();
      if (!within_range(node, *value, type, option, where, problems)) return std::nullopt;
      return Value::of_number(*value);
    }
    case OptionType::boolean: {
      const std::string word = lower(text);
      if (word == "true" || word == "yes" || word == "on") return Value::of_bool(true);
      if (word == "false" || word == "no" || word == "off") return Value::of_bool(false);
      return wrong();
    }
    case OptionType::duration: {
      auto value = parse_duration(text);
      if (!value) return wrong();
      if (!within_range(node, std::chrono::duration<double>(*value).count(), type, option, where, problems)) return std::nullopt;
      return Value::of_duration(*value);
    }
    case OptionType::size: {
      auto value = parse_size(text);
      if (!value || value->bytes > static_cast<std::uint64_t>(INT64_MAX)) return wrong();
      if (!within_range(node, static_cast<double>(value->bytes), type, option, where, problems)) return std::nullopt;
      return Value::of_integer(static_cast<std::int64_t>(value->bytes));
    }
    case OptionType::path:
      if (text.empty()) return wrong();
      if (text.find('\0') != std::string::npos) return inside("a path cannot contain a NUL byte", 0);
      return Value::of_string(text);
    case OptionType::condition:
    case OptionType::regex:
    case OptionType::message_template:
      if (auto problem = detail::check_option_kind(type, text))
        return inside(std::move(problem->message), problem->column, std::move(problem->hint));
      return Value::of_string(text);
    case OptionType::enumeration: {
      std::vector<std::string> allowed(option.allowed.begin(), option.allowed.end());
      if (std::find(allowed.begin(), allowed.end(), text) != allowed.end()) return Value::of_string(text);
      std::string hint = did_you_mean(text, allowed);
      if (hint.empty()) hint = "use " + one_of(allowed);
      problems.push_back({node, fmt::format("option '{}': '{}' is not one of {}", where, text, one_of(allowed)),
                          std::move(hint)});
      return std::nullopt;
    }
    case OptionType::list:
    case OptionType::map: return wrong();
  }
  return std::nullopt;
}

// YAML as it is, for list elements and map values whose own type is a list or map.
Value generic(const YAML::Node& node) {
  if (node.IsSequence()) {
    Value::List list;
    for (const auto& child : node) list.push_back(generic(child));
    return Value::of_list(std::move(list));
  }
  if (node.IsMap()) {
    Value::Map map;
    for (const auto& entry : node) map.emplace_back(entry.first.Scalar(), generic(entry.second));
    return Value::of_map(std::move(map));
  }
  if (node.IsNull()) return Value();
  return Value::of_string(node.Scalar());
}

std::optional<Value> convert(const YAML::Node& node, OptionType type, const OptionSpec& option,
                             const std::string& where, std::vector<ValueProblem>& problems, bool element) {
  if (!node.IsDefined() || node.IsNull()) {
    problems.push_back({node, fmt::format("option '{}' has no value", where),
                        option.example.empty() ? std::string() : fmt::format("for example {}", option.example)});
    return std::nullopt;
  }
  if (element && (type == OptionType::list || type == OptionType::map)) {
    if ((type == OptionType::list) != node.IsSequence() || (type == OptionType::map) != node.IsMap()) {
      problems.push_back({node, fmt::format("option '{}': expected each element to be a {}, found {}", where,
                                            to_string(type), describe(node)),
                          {}});
      return std::nullopt;
    }
    return generic(node);
  }
  if (type == OptionType::list && node.IsSequence()) {
    Value::List list;
    bool ok = true;
    std::size_t index = 0;
    for (const auto& child : node) {
      auto value = convert(child, option.element, option, fmt::format("{}[{}]", where, index++), problems, true);
      if (value) list.push_back(std::move(*value));
      else ok = false;
    }
    if (!ok) return std::nullopt;
    return Value::of_list(std::move(list));
  }
  if (type == OptionType::map && node.IsMap()) {
    Value::Map map;
    bool ok = true;
    for (const auto& entry : node) {
      auto value =
          convert(entry.second, option.element, option, fmt::format("{}.{}", where, entry.first.Scalar()), problems, true);
      if (value) map.emplace_back(entry.first.Scalar(), std::move(*value));
      else ok = false;
    }
    if (!ok) return std::nullopt;
    return Value::of_map(std::move(map));
  }
  if (!node.IsScalar()) {
    problems.push_back({node, fmt::format("option '{}': expected {} {}, found {}", where,
                                          type == OptionType::integer || type == OptionType::enumeration ? "an" : "a",
                                          to_string(type), describe(node)),
                        std::string(accepted_text(type))});
    return std::nullopt;
  }
  return convert_scalar(node, type, option, where, problems);
}

}  // namespace

std::optional<Value> convert_option(const YAML::Node& node, const OptionSpec& option,
                                    std::vector<ValueProblem>& problems) {
  return convert(node, option.type, option, std::string(option.name), problems, false);
}

Options validate_options(const YAML::Node& config, const PluginEntry& plugin, const std::string& stage,
                         const Place& stage_place, Reporter& reporter) {
  const auto schema = plugin.options();
  std::vector<std::string> names;
  for (const OptionSpec& option : schema) names.emplace_back(option.name);
  const std::string plugin_label = fmt::format("{} plugin '{}'", to_string(plugin.kind()), plugin.name());

  std::map<std::string, Value, std::less<>> values;
  std::vector<ValueProblem> problems;
  if (config.IsDefined() && !config.IsNull()) {
    if (!config.IsMap()) {
      reporter.error(config, fmt::format("stage '{}': config must be a map of options", stage),
                     "for example config: {key: value}");
      return Options();
    }
    for (const auto& entry : config) {
      const std::string key = entry.first.Scalar();
      auto option = std::find_if(schema.begin(), schema.end(), [&](const OptionSpec& o) { return o.name == key; });
      if (option == schema.end()) {
        std::string hint = did_you_mean(key, names);
        if (hint.empty())
          hint = names.empty() ? plugin_label + " takes no options" : "its options are " + one_of(names);
        reporter.error(entry.first, fmt::format("stage '{}': unknown option '{}' for {}", stage, key, plugin_label),
                       std::move(hint));
        continue;
      }
      if (values.count(key)) continue;  // the duplicate key is reported by the stage walker
      if (auto value = convert_option(entry.second, *option, problems)) {
        values.emplace(key, std::move(*value));
        // A plugin's condition (the filter's `when`) is checked like a stage's.
        if (option->type == OptionType::condition && entry.second.IsScalar())
          warn_constant_parts(
              Condition::parse(entry.second.Scalar()),
              [&](int column) { return reporter.place_inside(entry.second, column); },
              fmt::format("stage '{}': option '{}'", stage, key),
              "every message passes it; name an attribute: level == \"error\"", reporter);
      } else {
        values.emplace(key, Value());  // reported; keeps "missing" quiet
      }
    }
  }
  for (const auto& problem : problems)
    reporter.error(problem.column > 0 ? reporter.place_inside(problem.at, problem.column) : reporter.place(problem.at),
                   fmt::format("stage '{}': {}", stage, problem.message), problem.hint);

  for (const OptionSpec& option : schema) {
    const std::string name(option.name);
    if (values.count(name)) continue;
    if (option.default_value) {
      std::vector<ValueProblem> default_problems;
      std::optional<Value> value;
      try {
        value = convert_option(YAML::Load(std::string(*option.default_value)), option, default_problems);
      } catch (const YAML::Exception& e) {
        default_problems.push_back({YAML::Node(), e.what(), {}});
      }
      if (value) values.emplace(name, std::move(*value));
      for (const auto& problem : default_problems)
        reporter.error(stage_place, fmt::format("{} declares a bad default '{}' for option '{}': {}", plugin_label,
                                                *option.default_value, name, problem.message));
    } else if (option.required) {
      reporter.error(stage_place,
                     fmt::format("stage '{}': missing required option '{}' of {}", stage, name, plugin_label),
                     fmt::format("add config: {{{}: {}}}", name, option.example.empty() ? "..." : option.example));
    }
  }
  // Placeholders stood in for values already reported as wrong.
  std::erase_if(values, [](const auto& entry) { return entry.second.is_null(); });
  return Options(std::move(values), &plugin.descriptor().options, std::string(plugin.name()));
}

}  // namespace weir::config
