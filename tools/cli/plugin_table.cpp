#include "plugin_table.hpp"

#include <algorithm>
#include <numeric>

namespace weir::cli {
namespace {

constexpr std::size_t narrowest_column = 12;

// Terminal columns: UTF-8 code points.
std::size_t columns(std::string_view text) noexcept {
  std::size_t n = 0;
  for (const char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// The byte offset where the first `count` columns of `text` end.
std::size_t offset_of_column(std::string_view text, std::size_t count) noexcept {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && seen++ == count) return i;
  return text.size();
}

// Lines of at most `width` columns; a word longer than that is cut, or
// (`keep_words`: a path, a URL) stands whole on a line of its own.
std::vector<std::string> wrap(std::string_view text, std::size_t width, bool keep_words = false) {
  std::vector<std::string> lines(1);
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(start, end - start);
    start = end + 1;
    if (!lines.back().empty() && columns(lines.back()) + 1 + columns(word) > width) lines.emplace_back();
    if (!lines.back().empty()) lines.back() += ' ';
    while (!keep_words && columns(lines.back()) + columns(word) > width) {  // a word longer than the line: cut it
      const std::size_t cut = offset_of_column(word, width - columns(lines.back()));
      lines.back() += word.substr(0, cut);
      word.remove_prefix(cut);
      lines.emplace_back();
    }
    lines.back() += word;
  }
  if (lines.size() > 1 && lines.back().empty()) lines.pop_back();  // a cut word ended the text
  return lines;
}

}  // namespace

std::string wrapped_text(std::string_view text, std::size_t width, std::string_view indent) {
  const std::size_t room = width > columns(indent) + narrowest_column ? width - columns(indent) : narrowest_column;
  std::string out;
  for (const std::string& line : wrap(text, room, true)) out += std::string(indent) + line + '\n';
  return out;
}

std::optional<std::string> fitted_text_table(const TextTable& table, std::size_t width, std::size_t narrowest) {
  const std::size_t n = table.rows.front().size();
  std::vector<std::size_t> widths(n, 0);
  for (const auto& row : table.rows)
    for (std::size_t i = 0; i < n; ++i) widths[i] = std::max(widths[i], columns(row[i]));
  const auto total = [&] {
    return columns(table.indent) + std::accumulate(widths.begin(), widths.end(), std::size_t{0}) + 2 * (n - 1);
  };
  // Narrow the widest wrappable column, one column of text at a time.
  while (total() > width) {
    std::size_t widest = n;
    for (std::size_t i = 0; i < n; ++i)
      if (i < table.wrappable.size() && table.wrappable[i] && widths[i] > narrowest &&
          (widest == n || widths[i] > widths[widest]))
        widest = i;
    if (widest == n) return std::nullopt;
    --widths[widest];
  }
  std::string out;
  for (const auto& row : table.rows) {
    std::vector<std::vector<std::string>> cells;
    std::size_t height = 1;
    for (std::size_t i = 0; i < n; ++i) {
      cells.push_back(wrap(row[i], widths[i]));
      height = std::max(height, cells.back().size());
    }
    for (std::size_t line = 0; line < height; ++line) {
      std::string text = table.indent;
      for (std::size_t i = 0; i < n; ++i) {
        const std::string cell = line < cells[i].size() ? cells[i][line] : "";
        text += cell;
        if (i + 1 < n) text += std::string(widths[i] - columns(cell) + 2, ' ');
      }
      while (!text.empty() && text.back() == ' ') text.pop_back();
      out += text + '\n';
    }
  }
  return out;
}

}  // namespace weir::cli
