#include "config/yaml_syntax_hint.hpp"

#include <fmt/format.h>

#include <vector>

namespace weir::config {

namespace {

bool blank(char c) { return c == ' ' || c == '\t'; }
bool ends_token(std::string_view text, std::size_t i) {
  return i >= text.size() || blank(text[i]) || text[i] == '\n' || text[i] == '\r';
}

}  // namespace

std::string yaml_syntax_hint(std::string_view source, std::size_t error_offset) {
  // Whole lines up to the one the parser stopped on.
  std::size_t end = source.find('\n', std::min(error_offset, source.size()));
  if (end == std::string_view::npos) end = source.size();
  // The first of these is the cause: YAML before it parsed.
  int line = 1;
  std::size_t line_start = 0;
  struct Level {
    bool map;
    bool entry_has_colon;
  };
  std::vector<Level> flow;
  bool block_colon = false;  // this line has had a `key: ` outside { } and [ ]
  bool at_value_start = true;
  for (std::size_t i = 0; i < end; ++i) {
    const char c = source[i];
    const int column = static_cast<int>(i - line_start) + 1;
    if (c == '\n') {
      ++line;
      line_start = i + 1;
      block_colon = false;
      at_value_start = true;
      continue;
    }
    if (blank(c) || c == '\r') continue;
    if ((c == '\'' || c == '"') && at_value_start) {
      // A quoted scalar: skip to its closing quote ('' and \" stay inside).
      std::size_t j = i + 1;
      while (j < end) {
        if (source[j] == '\n') {
          ++line;
          line_start = j + 1;
        }
        if (c == '\'' && source[j] == '\'' && j + 1 < end && source[j + 1] == '\'') j += 2;
        else if (c == '"' && source[j] == '\\') j += 2;
        else if (source[j] == c) break;
        else ++j;
      }
      i = j;
      at_value_start = false;
      continue;
    }
    if (c == '#' && (i == line_start || blank(source[i - 1]))) {
      const std::size_t eol = std::min(source.find('\n', i), source.size());
      const std::string_view rest = source.substr(i, eol - i);
      if (!flow.empty() && rest.find_first_of("}]") != std::string_view::npos)
        return fmt::format("the ' #' at line {}, column {} starts a comment, even inside {{ }} or [ ], and hides the "
                           "'{}' after it; put the value in quotes",
                           line, column, rest[rest.find_first_of("}]")]);
      i = eol - 1;
      continue;
    }
    if (c == ':' && ends_token(source, i + 1)) {
      if (!flow.empty()) {
        if (flow.back().entry_has_colon)
          return fmt::format("the ': ' at line {}, column {} starts a second key in one entry of {}; put a value "
                             "that holds ': ' in quotes",
                             line, column, flow.back().map ? "{ }" : "[ ]");
        flow.back().entry_has_colon = true;
      } else {
        if (block_colon)
          return fmt::format("the ': ' at line {}, column {} starts a second key on one line; put a value that "
                             "holds ': ' in quotes",
                             line, column);
        block_colon = true;
      }
      at_value_start = true;
      continue;
    }
    if (c == '$' && at_value_start && !flow.empty() && i + 1 < end && source[i + 1] == '{')
      return fmt::format("the '${{' at line {}, column {} is read as the start of a map: inside {{ }} or [ ], put a "
                         "value with ${{NAME}} in quotes: '${{NAME}}'",
                         line, column);
    if (c == '{' || c == '[') {
      flow.push_back(Level{c == '{', false});
      at_value_start = true;
      continue;
    }
    if ((c == '}' || c == ']') && !flow.empty()) {
      flow.pop_back();
      at_value_start = false;
      continue;
    }
    if (c == ',' && !flow.empty()) {
      flow.back().entry_has_colon = false;
      at_value_start = true;
      continue;
    }
    at_value_start = c == '-' || c == '?';
  }
  return {};
}

}  // namespace weir::config
