#include "sdk/option_kinds.hpp"

#include <weir/condition.hpp>
#include <weir/options.hpp>
#include <weir/plugin.hpp>
#include <weir/regex.hpp>
#include <weir/template.hpp>

#include <fmt/format.h>

#include <charconv>

namespace weir {

std::string_view to_string(OptionType type) noexcept {
  switch (type) {
    case OptionType::string: return "string";
    case OptionType::integer: return "integer";
    case OptionType::number: return "number";
    case OptionType::boolean: return "boolean";
    case OptionType::duration: return "duration";
    case OptionType::size: return "size";
    case OptionType::path: return "path";
    case OptionType::condition: return "condition";
    case OptionType::regex: return "regex";
    case OptionType::message_template: return "template";
    case OptionType::list: return "list";
    case OptionType::map: return "map";
    case OptionType::enumeration: return "enum";
  }
  return "?";
}

std::string_view accepted_text(OptionType type) noexcept {
  switch (type) {
    case OptionType::string: return "text";
    case OptionType::integer: return "a whole number such as 10";
    case OptionType::number: return "a number such as 0.5";
    case OptionType::boolean: return "true or false";
    case OptionType::duration: return "a duration such as 250ms, 30s or 2m";
    case OptionType::size: return "a size in bytes such as 512, 64KiB or 16MiB";
    case OptionType::path: return "a file path, relative to the working folder";
    case OptionType::condition: return "a condition such as 'level == \"error\" && priority > 3'";
    case OptionType::regex: return "a regular expression in RE2 syntax such as '^(?P<level>[A-Z]+) '";
    case OptionType::message_template: return "a template such as '{level}: {payload}' ({{ and }} are literal braces)";
    case OptionType::enumeration: return "one of the listed values";
    case OptionType::list: return "a list such as [a, b]";
    case OptionType::map: return "a map such as {key: value}";
  }
  return "";
}

const Value* Value::find(std::string_view key) const {
  if (!is_map()) return nullptr;
  for (const auto& [k, v] : as_map())
    if (k == key) return &v;
  return nullptr;
}

std::string Value::to_text() const {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) return "null";
        else if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, double>) return fmt::format("{}", v);
        else if constexpr (std::is_same_v<T, std::string>) return v;
        else if constexpr (std::is_same_v<T, Duration>) return format_duration(v);
        else if constexpr (std::is_same_v<T, List>) {
          std::string out = "[";
          for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i].to_text();
          return out + "]";
        } else {
          std::string out = "{";
          for (std::size_t i = 0; i < v.size(); ++i)
            out += (i ? ", " : "") + v[i].first + ": " + v[i].second.to_text();
          return out + "}";
        }
      },
      storage_);
}

const char* Value::kind_name() const noexcept {
  switch (storage_.index()) {
    case 0: return "null";
    case 1: return "boolean";
    case 2: return "integer";
    case 3: return "number";
    case 4: return "string";
    case 5: return "duration";
    case 6: return "list";
    default: return "map";
  }
}

const OptionSpec* OptionTable::find(std::string_view name) const noexcept {
  for (const OptionSpec& spec : specs_)
    if (spec.name == name) return &spec;
  return nullptr;
}

namespace {
std::string option_error_text(const std::string& option, const std::string& problem, const std::string& hint) {
  return hint.empty() ? fmt::format("option '{}': {}", option, problem)
                      : fmt::format("option '{}': {} ({})", option, problem, hint);
}
}  // namespace

OptionError::OptionError(std::string option, std::string problem, std::string hint, int column)
    : std::invalid_argument(option_error_text(option, problem, hint)),
      option_(std::move(option)),
      problem_(std::move(problem)),
      hint_(std::move(hint)),
      column_(column) {}

void reject_option(std::string_view option, std::string_view problem, std::string_view hint, int column) {
  throw OptionError(std::string(option), std::string(problem), std::string(hint), column);
}

const Value& Options::at(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end())
    throw std::out_of_range(plugin_.empty() ? fmt::format("option '{}' has no value", name)
                                            : fmt::format("plugin '{}': option '{}' has no value", plugin_, name));
  return it->second;
}

// Misuse of the API is a programming error in the plugin, found when the
// stage is constructed: `weir validate` and the compliance test construct
// every stage.
const Value* Options::find(std::string_view name, OptionType type, bool required) const {
  const std::string who = plugin_.empty() ? std::string("a plugin") : fmt::format("plugin '{}'", plugin_);
  if (declared_) {
    const OptionSpec* spec = declared_->find(name);
    if (!spec)
      throw std::logic_error(fmt::format("{} reads option '{}', which its descriptor does not declare (add the "
                                         "handle to .options)",
                                         who, name));
    if (spec->type != type)
      throw std::logic_error(fmt::format("{} reads option '{}' as a {}, but declares it as a {}", who, name,
                                         to_string(type), to_string(spec->type)));
  }
  auto it = values_.find(name);
  if (it != values_.end() && !it->second.is_null()) return &it->second;
  if (!required) return nullptr;
  throw std::logic_error(fmt::format("{} reads option '{}', which has no value here: declare a .default_value or "
                                     ".required = true, or read it with options.get(...)",
                                     who, name));
}

template <>
std::string Options::scalar<std::string>(std::string_view, const Value& value) {
  return value.scalar_text();
}
template <>
std::int64_t Options::scalar<std::int64_t>(std::string_view name, const Value& value) {
  if (value.is_integer()) return value.as_integer();
  reject_option(name, fmt::format("'{}' is not an integer", value.to_text()), accepted_text(OptionType::integer));
}
template <>
double Options::scalar<double>(std::string_view name, const Value& value) {
  if (value.is_number()) return value.as_number();
  reject_option(name, fmt::format("'{}' is not a number", value.to_text()), accepted_text(OptionType::number));
}
template <>
bool Options::scalar<bool>(std::string_view, const Value& value) {
  return value.as_bool();
}
template <>
std::chrono::nanoseconds Options::scalar<std::chrono::nanoseconds>(std::string_view name, const Value& value) {
  if (value.is_duration()) return value.as_duration();
  if (value.is_string())
    if (auto parsed = parse_duration(value.as_string())) return *parsed;
  reject_option(name, fmt::format("'{}' is not a duration", value.to_text()), accepted_text(OptionType::duration));
}
template <>
Size Options::scalar<Size>(std::string_view name, const Value& value) {
  if (value.is_integer() && value.as_integer() >= 0) return Size{static_cast<std::uint64_t>(value.as_integer())};
  if (value.is_string())
    if (auto parsed = parse_size(value.as_string())) return *parsed;
  reject_option(name, fmt::format("'{}' is not a size", value.to_text()), accepted_text(OptionType::size));
}
template <>
std::filesystem::path Options::scalar<std::filesystem::path>(std::string_view, const Value& value) {
  return std::filesystem::path(value.scalar_text());
}
namespace detail {

std::optional<OptionKindProblem> check_option_kind(OptionType type, std::string_view text) {
  try {
    switch (type) {
      case OptionType::condition: static_cast<void>(Condition::parse(text)); break;
      case OptionType::regex: static_cast<void>(Regex::compile(text)); break;
      case OptionType::message_template: static_cast<void>(Template::compile(text)); break;
      default: break;
    }
  } catch (const ConditionError& e) {
    return OptionKindProblem{e.what(), e.column(), {}};
  } catch (const RegexError& e) {
    return OptionKindProblem{fmt::format("'{}' is not a valid regular expression: {}", text, e.what()),
                             static_cast<int>(e.offset()) + 1, {}};
  } catch (const TemplateError& e) {
    return OptionKindProblem{e.what(), e.column(), TemplateError::hint};
  }
  return std::nullopt;
}

}  // namespace detail

// Conditions, patterns and templates were checked when the pipeline loaded;
// options built in code are checked here, with the same words.
namespace {
void check_kind(std::string_view name, OptionType type, const Value& value) {
  if (auto problem = detail::check_option_kind(type, value.scalar_text()))
    reject_option(name, problem->message, problem->hint, problem->column);
}
}  // namespace

template <>
Condition Options::scalar<Condition>(std::string_view name, const Value& value) {
  check_kind(name, OptionType::condition, value);
  return Condition::parse(value.scalar_text());
}
template <>
Pattern Options::scalar<Pattern>(std::string_view name, const Value& value) {
  check_kind(name, OptionType::regex, value);
  return Pattern{value.scalar_text()};
}
template <>
Template Options::scalar<Template>(std::string_view name, const Value& value) {
  check_kind(name, OptionType::message_template, value);
  return Template::compile(value.scalar_text());
}
template <>
Value::Map Options::scalar<Value::Map>(std::string_view name, const Value& value) {
  if (value.is_map()) return value.as_map();
  reject_option(name, fmt::format("'{}' is not a map", value.to_text()), accepted_text(OptionType::map));
}

std::optional<Value::Duration> parse_duration(std::string_view text) noexcept {
  using namespace std::chrono;
  std::size_t split = 0;
  while (split < text.size() && (std::isdigit(static_cast<unsigned char>(text[split])) || text[split] == '.')) ++split;
  if (split == 0 || split == text.size()) return std::nullopt;
  double amount = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + split, amount);
  if (ec != std::errc() || ptr != text.data() + split) return std::nullopt;
  const std::string_view unit = text.substr(split);
  double ns_per_unit = 0;
  if (unit == "ns") ns_per_unit = 1;
  else if (unit == "us" || unit == "µs") ns_per_unit = 1e3;
  else if (unit == "ms") ns_per_unit = 1e6;
  else if (unit == "s") ns_per_unit = 1e9;
  else if (unit == "m") ns_per_unit = 60e9;
  else if (unit == "h") ns_per_unit = 3600e9;
  else return std::nullopt;
  return Value::Duration(static_cast<std::int64_t>(amount * ns_per_unit + 0.5));
}

std::optional<Size> parse_size(std::string_view text) noexcept {
  std::uint64_t amount = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), amount);
  if (error != std::errc() || end == text.data()) return std::nullopt;
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  int shift = 0;
  if (unit.empty() || unit == "B") shift = 0;
  else if (unit == "KiB") shift = 10;
  else if (unit == "MiB") shift = 20;
  else if (unit == "GiB") shift = 30;
  else if (unit == "TiB") shift = 40;
  else return std::nullopt;
  if (shift > 0 && amount > (UINT64_MAX >> shift)) return std::nullopt;
  return Size{amount << shift};
}

std::string format_size(Size size) {
  constexpr std::string_view units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  std::uint64_t amount = size.bytes;
  std::size_t unit = 0;
  while (amount != 0 && amount % 1024 == 0 && unit + 1 < std::size(units)) {
    amount /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{}", amount) : fmt::format("{}{}", amount, units[unit]);
}

std::string format_duration(Value::Duration d) {
  const auto ns = d.count();
  if (ns == 0) return "0s";
  if (ns % 3'600'000'000'000 == 0) return fmt::format("{}h", ns / 3'600'000'000'000);
  if (ns % 60'000'000'000 == 0) return fmt::format("{}m", ns / 60'000'000'000);
  if (ns % 1'000'000'000 == 0) return fmt::format("{}s", ns / 1'000'000'000);
  if (ns % 1'000'000 == 0) return fmt::format("{}ms", ns / 1'000'000);
  if (ns % 1'000 == 0) return fmt::format("{}us", ns / 1'000);
  return fmt::format("{}ns", ns);
}

}  // namespace weir
