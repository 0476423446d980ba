#pragma once
// std::regex (ECMAScript) has no named groups. This turns `(?P<name>...)` and
// `(?<name>...)` into numbered groups and keeps a table of the names, and
// rewrites the back-references `(?P=name)` and `\k<name>` to `\N`.

#include <cctype>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weir::stdp {

struct NamedPattern {
  std::string ecmascript;                                   // the pattern std::regex takes
  std::vector<std::pair<std::string, std::size_t>> names;   // name → group number
};

class PatternError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

inline NamedPattern translate_named_groups(std::string_view pattern) {
  NamedPattern out;
  std::size_t groups = 0;
  bool in_class = false;
  auto read_name = [&](std::size_t from, char terminator) -> std::pair<std::string, std::size_t> {
    std::size_t end = pattern.find(terminator, from);
    if (end == std::string_view::npos)
      throw PatternError("group name starting at offset " + std::to_string(from) + " is not closed by '" +
                         terminator + "'");
    std::string name(pattern.substr(from, end - from));
    bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
    for (char c : name) valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    if (!valid) throw PatternError("'" + name + "' is not a group name (letters, digits, _; not first a digit)");
    return {name, end + 1};
  };
  auto group_of = [&](const std::string& name) {
    for (const auto& [known, number] : out.names)
      if (known == name) return number;
    throw PatternError("back-reference to group '" + name + "', which is not defined before it");
  };
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      if (!in_class && pattern[i + 1] == 'k' && i + 2 < pattern.size() && pattern[i + 2] == '<') {
        auto [name, next] = read_name(i + 3, '>');
        out.ecmascript += "\\" + std::to_string(group_of(name));
        i = next - 1;
        continue;
      }
      out.ecmascript += pattern.substr(i, 2);
      ++i;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      out.ecmascript += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out.ecmascript += c;
      // A `]` right after `[` or `[^` is a literal member, not the end.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out.ecmascript += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out.ecmascript += pattern[++i];
      continue;
    }
    if (c != '(') {
      out.ecmascript += c;
      continue;
    }
    std::string_view rest = pattern.substr(i);
    if (rest.starts_with("(?P=")) {
      auto [name, next] = read_name(i + 4, ')');
      out.ecmascript += "\\" + std::to_string(group_of(name));
      i = next - 1;
      continue;
    }
    bool python_style = rest.starts_with("(?P<");
    bool named = python_style || (rest.starts_with("(?<") && !rest.starts_with("(?<=") && !rest.starts_with("(?<!"));
    if (named) {
      auto [name, next] = read_name(i + (python_style ? 4 : 3), '>');
      for (const auto& entry : out.names)
        if (entry.first == name) throw PatternError("group name '" + name + "' is used twice");
      out.names.emplace_back(name, ++groups);
      out.ecmascript += '(';
      i = next - 1;
      continue;
    }
    if (!rest.starts_with("(?")) ++groups;  // (?: (?= (?! do not capture
    out.ecmascript += c;
  }
  return out;
}

}  // namespace weir::stdp
