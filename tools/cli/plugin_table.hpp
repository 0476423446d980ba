#pragma once
// Text laid out for a terminal of a given width: the tables of
// `weir plugins` and the wrapped lines around them.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weir::cli {

// Columns of text, left-aligned, two spaces apart, each as wide as its widest
// cell; the rows after the first (the header) follow it.
struct TextTable {
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> wrappable;  // per column: may be narrowed, its cells wrapped over several lines
  std::string indent;
};

// The table in lines of at most `width` columns: wrappable columns are
// narrowed, widest first, down to `narrowest` columns each, and their cells
// wrapped at spaces (a longer word is cut). Empty when it cannot fit even then.
std::optional<std::string> fitted_text_table(const TextTable& table, std::size_t width, std::size_t narrowest = 12);

// `text` in lines of at most `width` columns broken at spaces, each line
// starting with `indent`; a word longer than a line (a path) stays whole.
std::string wrapped_text(std::string_view text, std::size_t width, std::string_view indent);

}  // namespace weir::cli
