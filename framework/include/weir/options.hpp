#pragma once
// The option schema a plugin declares once, and the typed values it reads.
// One declaration drives YAML validation, `weir plugins NAME` and the
// generated reference pages.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace weir {

enum class OptionType { string, integer, number, boolean, duration, list, map, enumeration };

std::string_view to_string(OptionType type) noexcept;

// One option of a plugin. Written as a designated initializer:
//   {.name = "count", .type = OptionType::integer, .default_value = "100",
//    .min = 0, .description = "Messages per replica", .example = "1000"}
// default_value and example are YAML text (a scalar, `[a, b]` or `{k: v}`).
struct OptionSpec {
  std::string_view name;
  OptionType type = OptionType::string;
  std::string_view description;
  std::optional<std::string_view> default_value{};  // none: no value unless given
  bool required = false;
  std::optional<double> min{};                      // integer, number, duration (seconds)
  std::optional<double> max{};
  std::vector<std::string_view> allowed{};          // enumeration values
  std::string_view example{};
  OptionType element = OptionType::string;          // element type of a list / value type of a map
};

// A typed option value. Lists and maps nest, so a plugin can take a list of
// templates, each a map.
class Value {
 public:
  using List = std::vector<Value>;
  using Map = std::vector<std::pair<std::string, Value>>;  // keeps the YAML order
  using Duration = std::chrono::nanoseconds;

  Value() = default;
  static Value of_bool(bool v) { return Value(Storage{v}); }
  static Value of_int(std::int64_t v) { return Value(Storage{v}); }
  static Value of_number(double v) { return Value(Storage{v}); }
  static Value of_string(std::string v) { return Value(Storage{std::move(v)}); }
  static Value of_duration(Duration v) { return Value(Storage{v}); }
  static Value of_list(List v) { return Value(Storage{std::move(v)}); }
  static Value of_map(Map v) { return Value(Storage{std::move(v)}); }

  bool is_null() const noexcept { return std::holds_alternative<std::monostate>(storage_); }
  bool is_bool() const noexcept { return std::holds_alternative<bool>(storage_); }
  bool is_int() const noexcept { return std::holds_alternative<std::int64_t>(storage_); }
  bool is_number() const noexcept { return is_int() || std::holds_alternative<double>(storage_); }
  bool is_string() const noexcept { return std::holds_alternative<std::string>(storage_); }
  bool is_duration() const noexcept { return std::holds_alternative<Duration>(storage_); }
  bool is_list() const noexcept { return std::holds_alternative<List>(storage_); }
  bool is_map() const noexcept { return std::holds_alternative<Map>(storage_); }

  bool as_bool() const { return get<bool>("boolean"); }
  std::int64_t as_int() const { return get<std::int64_t>("integer"); }
  double as_number() const {
    if (is_int()) return static_cast<double>(as_int());
    return get<double>("number");
  }
  const std::string& as_string() const { return get<std::string>("string"); }
  Duration as_duration() const { return get<Duration>("duration"); }
  const List& as_list() const { return get<List>("list"); }
  const Map& as_map() const { return get<Map>("map"); }
  // A member of a map value, or nullptr.
  const Value* find(std::string_view key) const;
  // Renders the value as YAML flow text, for listings and docs.
  std::string to_text() const;

 private:
  using Storage =
      std::variant<std::monostate, bool, std::int64_t, double, std::string, Duration, List, Map>;
  explicit Value(Storage s) : storage_(std::move(s)) {}
  template <class T>
  const T& get(const char* what) const {
    if (const T* v = std::get_if<T>(&storage_)) return *v;
    throw std::logic_error(std::string("weir::Value is not a ") + what);
  }
  Storage storage_;
};

// The validated options of one stage: every declared option with a value
// (given or defaulted) is present, with the declared type.
class Options {
 public:
  Options() = default;
  explicit Options(std::map<std::string, Value, std::less<>> values) : values_(std::move(values)) {}

  bool has(std::string_view name) const { return values_.find(name) != values_.end(); }
  const Value& at(std::string_view name) const;
  std::string string(std::string_view name) const { return at(name).as_string(); }
  std::int64_t integer(std::string_view name) const { return at(name).as_int(); }
  double number(std::string_view name) const { return at(name).as_number(); }
  bool boolean(std::string_view name) const { return at(name).as_bool(); }
  Value::Duration duration(std::string_view name) const { return at(name).as_duration(); }
  const Value::List& list(std::string_view name) const { return at(name).as_list(); }
  const Value::Map& map(std::string_view name) const { return at(name).as_map(); }
  std::vector<std::string> strings(std::string_view name) const;
  const std::map<std::string, Value, std::less<>>& values() const noexcept { return values_; }

 private:
  std::map<std::string, Value, std::less<>> values_;
};

// Parses a duration written `250ms`, `30s`, `2m`, `1h`, `10us`, `5ns`.
std::optional<Value::Duration> parse_duration(std::string_view text) noexcept;
std::string format_duration(Value::Duration d);

}  // namespace weir
