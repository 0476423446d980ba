#include "config/yaml_reader.hpp"

#include <weir/options.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>

namespace weir::config {

std::vector<std::string> to_strings(Keys keys) { return {keys.begin(), keys.end()}; }

std::string describe(const YAML::Node& node) {
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  return fmt::format("'{}'", node.Scalar());
}

std::vector<YAML::Node> items(const YAML::Node& node) {
  std::vector<YAML::Node> out;
  if (!node.IsSequence()) out.push_back(node);
  else
    for (const YAML::Node& item : node) out.push_back(item);
  return out;
}

void YamlReader::walk_map(const YAML::Node& map, Keys known, std::string_view where, const OnKey& on_key) {
  if (!map.IsMap()) {
    reporter_.error(map, fmt::format("{} must be a map, found {}", where, describe(map)));
    return;
  }
  std::map<std::string, int> seen;
  for (const auto& entry : map) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
    if (!entry.first.IsScalar()) {
      reporter_.error(entry.first, fmt::format("a key in {} must be a plain name", where));
      continue;
    }
    if (auto [it, fresh] = seen.emplace(key, reporter_.place(entry.first).position.line); !fresh) {
      reporter_.error(entry.first, fmt::format("'{}' appears twice in {}", key, where),
                      it->second > 0 ? fmt::format("first at line {}", it->second) : std::string());
      continue;
    }
    if (!known.empty() && std::find(known.begin(), known.end(), key) == known.end()) {
      std::string hint = did_you_mean(key, to_strings(known));
      if (hint.empty()) hint = "known keys: " + one_of(to_strings(known));
      reporter_.error(entry.first, fmt::format("unknown key '{}' in {}", key, where), std::move(hint));
      continue;
    }
    on_key(key, entry.second, entry.first);
  }
}

void YamlReader::read_map(const YAML::Node& map, std::string_view where, std::initializer_list<KeyReader> readers) {
  std::vector<std::string_view> keys;
  for (const KeyReader& reader : readers) keys.push_back(reader.key);
  walk_map(map, keys, where, [&](const std::string& key, const YAML::Node& value, const YAML::Node&) {
    for (const KeyReader& reader : readers)
      if (reader.key == key) return reader.read(value);
  });
}

std::optional<std::string> YamlReader::spelled_null(const YAML::Node& node) const {
  if (!node.IsNull() || reporter_.from_override(node)) return std::nullopt;
  const auto pos = static_cast<std::size_t>(std::max(node.Mark().pos, 0));
  for (std::string_view word : {"null", "Null", "NULL", "~"})
    if (source_.substr(pos, word.size()) == word) {
      const std::size_t end = pos + word.size();
      if (end == source_.size() || std::string_view(" \t\r\n,}]#").find(source_[end]) != std::string_view::npos)
        return std::string(word);
    }
  return std::nullopt;
}

std::optional<std::string> YamlReader::read_string(const YAML::Node& node, std::string_view what) {
  if (node.IsScalar() && !node.Scalar().empty()) return node.Scalar();
  if (auto word = spelled_null(node)) return word;
  reporter_.error(node, fmt::format("{} must be a name or text, found {}", what, describe(node)));
  return std::nullopt;
}

std::optional<std::uint64_t> YamlReader::read_count(const YAML::Node& node, std::string_view what,
                                                    std::uint64_t minimum, std::optional<std::uint64_t> accepted) {
  std::uint64_t value = 0;
  if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error == std::errc() && end == text.data() + text.size() && !text.empty() && value >= accepted.value_or(minimum))
      return value;
  }
  reporter_.error(node, fmt::format("{} must be a whole number of at least {}, found {}", what, minimum, describe(node)));
  return std::nullopt;
}

std::optional<std::chrono::nanoseconds> YamlReader::read_duration(const YAML::Node& node, std::string_view what) {
  if (node.IsScalar())
    if (auto value = parse_duration(node.Scalar())) return *value;
  reporter_.error(node, fmt::format("{} must be a duration, found {}", what, describe(node)),
                  "write it like 250ms, 30s or 2m");
  return std::nullopt;
}

std::optional<Condition> YamlReader::read_condition(const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) {
    reporter_.error(node, fmt::format("{} must be a condition, found {}", what, describe(node)),
                    "for example when: 'kind == \"email\"'");
    return std::nullopt;
  }
  try {
    return Condition::parse(node.Scalar());
  } catch (const ConditionError& e) {
    reporter_.error(reporter_.place_inside(node, e.column()), fmt::format("{}: {}", what, e.what()));
    return Condition();
  }
}

void YamlReader::report_wrong_choice(const YAML::Node& node, std::string_view what,
                                     const std::vector<std::string>& names) {
  std::string hint = node.IsScalar() ? did_you_mean(node.Scalar(), names) : std::string();
  if (hint.empty()) hint = "use " + one_of(names);
  reporter_.error(node, fmt::format("{} must be {}, found {}", what, one_of(names), describe(node)), std::move(hint));
}

}  // namespace weir::config
