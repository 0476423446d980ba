#pragma once
// Plugin options, declared once. A plugin declares each option as a typed
// handle, lists the handles in its descriptor, and reads each value through
// its handle:
//
//   const weir::Option<std::int64_t> count{
//       .name = "count", .description = "Messages per replica", .default_value = "100", .min = 0};
//   ...  count_ = options[count];   // a std::int64_t, checked at load
//
// The one declaration drives YAML validation (types, ranges, the inner syntax
// of conditions, regular expressions and templates), `weir plugins NAME` and
// the generated reference pages. The C++ type of the handle decides the
// option's kind, so a value cannot be read as another type; reading a handle
// the plugin did not list, or one with no value, fails when the stage is
// constructed (which `weir validate` does) with a message naming the plugin
// and the option.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace weir {

class Condition;
class Template;

enum class OptionType {
  string,
  integer,
  number,
  boolean,
  duration,          // 250ms, 30s, 2m
  size,              // bytes: 512, 64KiB, 16MiB
  path,              // a file or folder; opened by start(), never at load
  condition,         // a `when:` expression over a message
  regex,             // a regular expression (RE2 syntax)
  message_template,  // text with {payload}, {NAME} placeholders
  enumeration,
  list,
  map
};

std::string_view to_string(OptionType type) noexcept;
// What a value of this kind looks like, for docs and hints ("a duration such as 250ms").
std::string_view accepted_text(OptionType type) noexcept;

// One option of a plugin, whatever its C++ type: what validation, listings
// and docs read. Plugins write Option<T> handles, which produce these.
struct OptionSpec {
  std::string_view name;
  OptionType type = OptionType::string;
  std::string_view description;
  std::optional<std::string_view> default_value{};  // YAML text; none: no value unless given
  bool required = false;
  std::optional<double> min{};                      // integer, number; duration in seconds; size in bytes
  std::optional<double> max{};
  std::vector<std::string_view> allowed{};          // enumeration values
  std::string_view example{};                       // YAML text
  OptionType element = OptionType::string;          // element type of a list / value type of a map
};

// A size in bytes (`64KiB`).
struct Size {
  std::uint64_t bytes = 0;
  friend bool operator==(Size, Size) = default;
};

// A regular expression, checked (weir::Regex: RE2 syntax) when the pipeline
// loads; the plugin compiles `text` with weir::Regex::compile and the flags
// it wants.
struct Pattern {
  std::string text;
};

// The value type of a map option: entries in YAML order.
template <class T>
using Named = std::vector<std::pair<std::string, T>>;

// A typed option value as the YAML gave it. Lists and maps nest, so a plugin
// can take a list of maps (read as std::vector<Value::Map>).
class Value {
 public:
  using List = std::vector<Value>;
  using Map = std::vector<std::pair<std::string, Value>>;  // keeps the YAML order
  using Duration = std::chrono::nanoseconds;

  Value() = default;
  static Value of_bool(bool v) { return Value(Storage{v}); }
  static Value of_integer(std::int64_t v) { return Value(Storage{v}); }
  static Value of_number(double v) { return Value(Storage{v}); }
  static Value of_string(std::string v) { return Value(Storage{std::move(v)}); }
  static Value of_duration(Duration v) { return Value(Storage{v}); }
  static Value of_list(List v) { return Value(Storage{std::move(v)}); }
  static Value of_map(Map v) { return Value(Storage{std::move(v)}); }
  // The names before OptionType::integer's spelling was used throughout.
  [[deprecated("use Value::of_integer")]] static Value of_int(std::int64_t v) { return of_integer(v); }
  [[deprecated("use Value::is_integer")]] bool is_int() const noexcept { return is_integer(); }
  [[deprecated("use Value::as_integer")]] std::int64_t as_int() const { return as_integer(); }

  bool is_null() const noexcept { return std::holds_alternative<std::monostate>(storage_); }
  bool is_bool() const noexcept { return std::holds_alternative<bool>(storage_); }
  bool is_integer() const noexcept { return std::holds_alternative<std::int64_t>(storage_); }
  bool is_number() const noexcept { return is_integer() || std::holds_alternative<double>(storage_); }
  bool is_string() const noexcept { return std::holds_alternative<std::string>(storage_); }
  bool is_duration() const noexcept { return std::holds_alternative<Duration>(storage_); }
  bool is_list() const noexcept { return std::holds_alternative<List>(storage_); }
  bool is_map() const noexcept { return std::holds_alternative<Map>(storage_); }

  bool as_bool() const { return get<bool>("boolean"); }
  std::int64_t as_integer() const { return get<std::int64_t>("integer"); }
  double as_number() const {
    if (is_integer()) return static_cast<double>(as_integer());
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
  // A nested scalar as text, whatever type the YAML gave it.
  std::string scalar_text() const { return is_string() ? as_string() : to_text(); }

 private:
  using Storage =
      std::variant<std::monostate, bool, std::int64_t, double, std::string, Duration, List, Map>;
  explicit Value(Storage s) : storage_(std::move(s)) {}
  template <class T>
  const T& get(const char* what) const {
    if (const T* v = std::get_if<T>(&storage_)) return *v;
    throw std::logic_error(std::string("weir::Value: this ") + kind_name() + " is not " + article(what) + " " + what);
  }
  const char* kind_name() const noexcept;
  static const char* article(const char* what) noexcept { return (*what == 'i') ? "an" : "a"; }
  Storage storage_;
};

namespace detail {

struct NoChoices {};

// The option kind of each C++ type a handle may have.
template <class T, class = void>
struct OptionKind;
template <> struct OptionKind<std::string> { static constexpr OptionType type = OptionType::string; };
template <> struct OptionKind<std::int64_t> { static constexpr OptionType type = OptionType::integer; };
template <> struct OptionKind<double> { static constexpr OptionType type = OptionType::number; };
template <> struct OptionKind<bool> { static constexpr OptionType type = OptionType::boolean; };
template <> struct OptionKind<std::chrono::nanoseconds> { static constexpr OptionType type = OptionType::duration; };
template <> struct OptionKind<Size> { static constexpr OptionType type = OptionType::size; };
template <> struct OptionKind<std::filesystem::path> { static constexpr OptionType type = OptionType::path; };
template <> struct OptionKind<Condition> { static constexpr OptionType type = OptionType::condition; };
template <> struct OptionKind<Pattern> { static constexpr OptionType type = OptionType::regex; };
template <> struct OptionKind<Template> { static constexpr OptionType type = OptionType::message_template; };
// A map whose values are themselves free-form YAML (an element of a list of maps).
template <> struct OptionKind<Value::Map> {
  static constexpr OptionType type = OptionType::map;
  static constexpr OptionType element = OptionType::string;
};
template <class E>
struct OptionKind<E, std::enable_if_t<std::is_enum_v<E>>> {
  static constexpr OptionType type = OptionType::enumeration;
};
template <class T>
struct OptionKind<std::vector<T>, std::void_t<decltype(OptionKind<T>::type)>> {
  static constexpr OptionType type = OptionType::list;
  static constexpr OptionType element = OptionKind<T>::type;
};
template <class T>
struct OptionKind<Named<T>, std::void_t<decltype(OptionKind<T>::type)>> {
  static constexpr OptionType type = OptionType::map;
  static constexpr OptionType element = OptionKind<T>::type;
};

template <class T>
constexpr OptionType element_of() {
  if constexpr (requires { OptionKind<T>::element; }) return OptionKind<T>::element;
  else return OptionType::string;
}

template <class T>
concept OptionValue = requires { OptionKind<T>::type; };

template <class T>
using Choices = std::conditional_t<std::is_enum_v<T>, std::vector<std::pair<std::string_view, T>>, NoChoices>;

}  // namespace detail

// A plugin's option, declared once with designated initializers. T is what
// the plugin reads: std::string, std::int64_t, double, bool,
// std::chrono::nanoseconds (duration), weir::Size, std::filesystem::path,
// weir::Condition, weir::Pattern (regex), weir::Template, an enum (with
// .choices), std::vector<T> (a list) or weir::Named<T> (a map).
template <class T>
  requires detail::OptionValue<T>
struct Option {
  std::string_view name;
  std::string_view description;
  std::optional<std::string_view> default_value{};  // YAML text; none: no value unless given
  bool required = false;
  std::optional<double> min{};  // integer, number; duration in seconds; size in bytes; list elements too
  std::optional<double> max{};
  detail::Choices<T> choices{};  // enums only: {{"keep", Action::keep}, {"drop", Action::drop}}
  std::string_view example{};   // YAML text

  static constexpr OptionType type = detail::OptionKind<T>::type;

  OptionSpec spec() const {
    OptionSpec out{.name = name,
                   .type = type,
                   .description = description,
                   .default_value = default_value,
                   .required = required,
                   .min = min,
                   .max = max,
                   .example = example,
                   .element = detail::element_of<T>()};
    if constexpr (std::is_enum_v<T>)
      for (const auto& [spelling, value] : choices) out.allowed.push_back(spelling);
    return out;
  }
};

// The options a plugin declares, in the order its docs list them:
//   .options = {count, rate, payload}
class OptionTable {
 public:
  OptionTable() = default;
  template <class... T>
  OptionTable(const Option<T>&... options) : specs_{options.spec()...} {}
  // For tables built at run time (tests, generated plugins).
  explicit OptionTable(std::vector<OptionSpec> specs) : specs_(std::move(specs)) {}

  std::span<const OptionSpec> specs() const noexcept { return specs_; }
  const OptionSpec* find(std::string_view name) const noexcept;

 private:
  std::vector<OptionSpec> specs_;
};

// A plugin's constructor rejects an option it cannot work with by throwing
// this (or calling reject_option): the loader reports it at the option's
// place in the YAML. `option` may reach inside a value: `templates[2].weight`,
// `attributes.summary`. `column` is 1-based inside the option's text, when the
// plugin's own parser knows it (0: the whole value).
class OptionError : public std::invalid_argument {
 public:
  OptionError(std::string option, std::string problem, std::string hint = {}, int column = 0);
  const std::string& option() const noexcept { return option_; }
  const std::string& problem() const noexcept { return problem_; }
  const std::string& hint() const noexcept { return hint_; }
  int column() const noexcept { return column_; }

 private:
  std::string option_;
  std::string problem_;
  std::string hint_;
  int column_;
};

[[noreturn]] void reject_option(std::string_view option, std::string_view problem, std::string_view hint = {},
                                int column = 0);

// The validated options of one stage: every declared option with a value
// (given or defaulted) is present, with the declared type.
class Options {
 public:
  Options() = default;
  explicit Options(std::map<std::string, Value, std::less<>> values) : values_(std::move(values)) {}
  // `declared`: the plugin's table, which every read is checked against;
  // `plugin` names it in messages. The table must outlive the Options.
  Options(std::map<std::string, Value, std::less<>> values, const OptionTable* declared, std::string plugin)
      : values_(std::move(values)), declared_(declared), plugin_(std::move(plugin)) {}

  // The value of a declared option; an option with no value (neither given
  // nor defaulted) is a std::logic_error naming the plugin and the option.
  template <class T>
  T operator[](const Option<T>& option) const {
    const Value* value = find(option.name, Option<T>::type, true);
    return convert(option, *value);
  }
  // The same, or nullopt when the option has no value.
  template <class T>
  std::optional<T> get(const Option<T>& option) const {
    const Value* value = find(option.name, Option<T>::type, false);
    if (!value) return std::nullopt;
    return convert(option, *value);
  }

  // Untyped access, for host programs and tests that read a spec.
  bool has(std::string_view name) const { return values_.find(name) != values_.end(); }
  const Value& at(std::string_view name) const;
  const std::map<std::string, Value, std::less<>>& values() const noexcept { return values_; }
  const std::string& plugin() const noexcept { return plugin_; }

 private:
  // Checks the read against the declaration; throws std::logic_error naming
  // the plugin and the option on misuse. Null only when !required.
  const Value* find(std::string_view name, OptionType type, bool required) const;

  template <class T>
  T convert(const Option<T>& option, const Value& value) const {
    if constexpr (std::is_enum_v<T>) {
      const std::string& text = value.as_string();
      for (const auto& [spelling, choice] : option.choices)
        if (spelling == text) return choice;
      reject_option(option.name, "'" + text + "' is not one of its choices");
    } else if constexpr (requires { typename T::value_type; } && !std::is_same_v<T, std::string> &&
                         !std::is_same_v<T, std::filesystem::path>) {
      T out;
      if constexpr (requires { typename T::value_type::first_type; } &&
                    !std::is_same_v<T, std::vector<Value::Map>>) {
        for (const auto& [key, element] : value.as_map())
          out.emplace_back(key, scalar<typename T::value_type::second_type>(option.name, element));
      } else {
        for (const Value& element : value.as_list()) out.push_back(scalar<typename T::value_type>(option.name, element));
      }
      return out;
    } else {
      return scalar<T>(option.name, value);
    }
  }

  // One scalar (or a list element / map value) as T.
  template <class T>
  static T scalar(std::string_view name, const Value& value);

  std::map<std::string, Value, std::less<>> values_;
  const OptionTable* declared_ = nullptr;
  std::string plugin_;
};

// Parses a duration written `250ms`, `30s`, `2m`, `1h`, `10us`, `5ns`.
std::optional<Value::Duration> parse_duration(std::string_view text) noexcept;
std::string format_duration(Value::Duration d);
// Parses a size written `512`, `512B`, `64KiB`, `16MiB`, `2GiB`.
std::optional<Size> parse_size(std::string_view text) noexcept;
std::string format_size(Size size);

// Conversions of one checked value; defined in the SDK library.
template <> std::string Options::scalar<std::string>(std::string_view, const Value&);
template <> std::int64_t Options::scalar<std::int64_t>(std::string_view, const Value&);
template <> double Options::scalar<double>(std::string_view, const Value&);
template <> bool Options::scalar<bool>(std::string_view, const Value&);
template <> std::chrono::nanoseconds Options::scalar<std::chrono::nanoseconds>(std::string_view, const Value&);
template <> Size Options::scalar<Size>(std::string_view, const Value&);
template <> std::filesystem::path Options::scalar<std::filesystem::path>(std::string_view, const Value&);
template <> Condition Options::scalar<Condition>(std::string_view, const Value&);
template <> Pattern Options::scalar<Pattern>(std::string_view, const Value&);
template <> Template Options::scalar<Template>(std::string_view, const Value&);
template <> Value::Map Options::scalar<Value::Map>(std::string_view, const Value&);

}  // namespace weir
