#pragma once
// The generic readers of pipeline YAML: a map walked key by key (unknown and
// repeated keys reported), and scalars read as names, counts, durations,
// conditions or one of an enum's spellings. Each problem is reported at its
// node; a reader that fails returns nullopt and the caller goes on, so every
// problem of a file is found in one pass.

#include "config/reporter.hpp"
#include "config/spellings.hpp"

#include <weir/condition.hpp>

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace weir::config {

using Keys = std::span<const std::string_view>;

std::vector<std::string> to_strings(Keys keys);

// How a value is named in a message: "a list", "a map", "nothing" or the
// scalar's text in quotes.
std::string describe(const YAML::Node& node);

// A list's items, or the one value given where a list was allowed.
std::vector<YAML::Node> items(const YAML::Node& node);

class YamlReader {
 public:
  // `source` is the YAML text the nodes were parsed from.
  YamlReader(Reporter& reporter, std::string_view source) : reporter_(reporter), source_(source) {}

  using OnKey = std::function<void(const std::string& key, const YAML::Node& value, const YAML::Node& key_node)>;
  // Calls `on_key` for each entry of a map, reporting unknown keys (with a
  // hint) and duplicates. Empty `known`: any key.
  void walk_map(const YAML::Node& map, Keys known, std::string_view where, const OnKey& on_key);

  // A key of a map and what reads its value.
  struct KeyReader {
    std::string_view key;
    std::function<void(const YAML::Node& value)> read;
  };
  // walk_map over exactly the keys of `readers`: each key is read by its own
  // reader, and a key without one is refused as unknown (listing the keys in
  // this order), so none falls through to another key's reader.
  void read_map(const YAML::Node& map, std::string_view where, std::initializer_list<KeyReader> readers);

  std::optional<std::string> read_string(const YAML::Node& node, std::string_view what);
  // `accepted` below `minimum` lets a value through to the graph checks,
  // which say what is wrong with it there (for specs built in code too).
  std::optional<std::uint64_t> read_count(const YAML::Node& node, std::string_view what, std::uint64_t minimum,
                                          std::optional<std::uint64_t> accepted = std::nullopt);
  std::optional<std::chrono::nanoseconds> read_duration(const YAML::Node& node, std::string_view what);
  // A condition that does not parse is reported and read as an empty one, so
  // the graph checks don't pile consequences on it.
  std::optional<Condition> read_condition(const YAML::Node& node, std::string_view what);

  // One of the enum's spellings (config/spellings.hpp).
  template <class Enum>
  std::optional<Enum> read_choice(const YAML::Node& node, std::string_view what) {
    for (const Spelling<Enum>& spelling : spellings<Enum>())
      if (node.IsScalar() && node.Scalar() == spelling.text) return spelling.value;
    std::vector<std::string> names;
    for (const Spelling<Enum>& spelling : spellings<Enum>()) names.emplace_back(spelling.text);
    report_wrong_choice(node, what, names);
    return std::nullopt;
  }

 protected:
  Reporter& reporter_;

 private:
  // YAML reads a plain `null` or `~` as no value, but `plugin: null` names
  // the null sink; yaml-cpp keeps no text for it, so look at the source.
  std::optional<std::string> spelled_null(const YAML::Node& node) const;
  void report_wrong_choice(const YAML::Node& node, std::string_view what, const std::vector<std::string>& names);

  std::string_view source_;
};

}  // namespace weir::config
