#include "config/environment.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace weir::config {

namespace {

bool starts_name(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool in_name(char c) { return starts_name(c) || (c >= '0' && c <= '9'); }

// Where the `${` of each reference starts, in the order `interpolate` meets
// them; the same scan runs over the scalar's text and over the file's text.
std::vector<std::size_t> reference_starts(std::string_view text) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] != '$') continue;
    if (text[i + 1] == '$' && i + 2 < text.size() && text[i + 2] == '{') {
      i += 2;  // `$${`: an escaped `${`
      continue;
    }
    if (text[i + 1] == '{') starts.push_back(i);
  }
  return starts;
}

// Line and column (1-based) of `offset` in `source`.
std::pair<int, int> line_and_column(std::string_view source, std::size_t offset) {
  int line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset && i < source.size(); ++i)
    if (source[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  return {line, static_cast<int>(offset - line_start) + 1};
}

struct Replacement {
  YAML::Node node;
  std::string value;
};

void collect(const YAML::Node& node, std::vector<YAML::Node>& scalars) {
  if (node.IsScalar()) {
    if (node.Scalar().find('$') != std::string::npos) scalars.push_back(node);
  } else if (node.IsSequence()) {
    for (const YAML::Node& item : node) collect(item, scalars);
  } else if (node.IsMap()) {
    for (const auto& entry : node) collect(entry.second, scalars);
  }
}

}  // namespace

Lookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (const char* value = std::getenv(name.c_str())) return std::string(value);
    return std::nullopt;
  };
}

std::string interpolate(std::string_view text, const Lookup& lookup, std::vector<InterpolationProblem>& problems) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '$' || i + 1 >= text.size()) {
      out += c;
      ++i;
      continue;
    }
    if (text.substr(i, 3) == "$${") {
      out += "${";
      i += 3;
      continue;
    }
    if (text[i + 1] != '{') {
      out += c;
      ++i;
      continue;
    }
    const std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      problems.push_back({i, "'${' is not closed with '}'", "write ${NAME} or ${NAME:-default}; $${ is a literal ${"});
      out.append(text.substr(i));
      break;
    }
    const std::string_view inside = text.substr(i + 2, close - i - 2);
    const std::size_t name_end = std::min(inside.find(":-"), inside.size());
    const std::string name(inside.substr(0, name_end));
    const bool valid_name = !name.empty() && starts_name(name.front()) &&
                            std::all_of(name.begin(), name.end(), [](char ch) { return in_name(ch); });
    if (!valid_name) {
      problems.push_back({i, fmt::format("'${{{}}}' does not name an environment variable", inside),
                          "a name is letters, digits and _, not starting with a digit: ${NAME} or ${NAME:-default}"});
      out.append(text.substr(i, close + 1 - i));
    } else {
      const std::optional<std::string> value = lookup(name);
      if (name_end < inside.size()) {
        // Like the shell's ${NAME:-default}: the default also stands in for an empty value.
        out += value && !value->empty() ? *value : std::string(inside.substr(name_end + 2));
      } else if (value) {
        out += *value;
      } else {
        problems.push_back({i, fmt::format("environment variable '{}' is not set", name),
                            fmt::format("set it, or give a default: ${{{}:-VALUE}}", name)});
        out.append(text.substr(i, close + 1 - i));
      }
    }
    i = close + 1;
  }
  return out;
}

void interpolate_environment(YAML::Node& root, std::string_view source, const Lookup& lookup, Reporter& reporter) {
  std::vector<YAML::Node> scalars;
  collect(root, scalars);
  // Replaced after the walk: a node reached twice (through an alias) is then
  // interpolated from its own text both times, never from a value.
  std::vector<Replacement> replacements;
  for (const YAML::Node& scalar : scalars) {
    const std::string& text = scalar.Scalar();
    std::vector<InterpolationProblem> problems;
    std::string value = interpolate(text, lookup, problems);
    for (const InterpolationProblem& problem : problems) {
      Place at = reporter.place(scalar);
      const YAML::Mark mark = scalar.Mark();
      if (!reporter.from_override(scalar) && mark.pos >= 0) {
        // The n-th reference of the text is the n-th one in the file from
        // where the scalar starts (escapes and quotes do not hide a `${`).
        const auto in_text = reference_starts(text);
        const auto n = static_cast<std::size_t>(
            std::find(in_text.begin(), in_text.end(), problem.offset) - in_text.begin());
        const std::string_view rest = source.substr(std::min(static_cast<std::size_t>(mark.pos), source.size()));
        const auto in_file = reference_starts(rest);
        if (n < in_file.size()) {
          const auto [line, column] = line_and_column(source, static_cast<std::size_t>(mark.pos) + in_file[n]);
          at = Place{reporter.file(), {line, column}};
        }
      }
      reporter.error(at, problem.message, problem.hint);
    }
    // What the loader would say next about the value as written (not a
    // number, not a condition) follows from this problem; leave it out.
    if (!problems.empty()) reporter.quiet(scalar);
    if (problems.empty() && value != text) replacements.push_back({scalar, std::move(value)});
  }
  for (Replacement& replacement : replacements) {
    replacement.node = replacement.value;
    reporter.mark_rewritten(replacement.node);
  }
}

}  // namespace weir::config
