#include <weir/options.hpp>
#include <weir/plugin.hpp>

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
    case OptionType::list: return "list";
    case OptionType::map: return "map";
    case OptionType::enumeration: return "enum";
  }
  return "?";
}

std::string_view to_string(Kind kind) noexcept {
  switch (kind) {
    case Kind::source: return "source";
    case Kind::processor: return "processor";
    case Kind::sink: return "sink";
  }
  return "?";
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

const Value& Options::at(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw std::out_of_range(fmt::format("option '{}' has no value", name));
  return it->second;
}

std::vector<std::string> Options::strings(std::string_view name) const {
  std::vector<std::string> out;
  for (const Value& v : list(name)) out.push_back(v.to_text());
  return out;
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
