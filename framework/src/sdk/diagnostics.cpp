#include <weir/diagnostics.hpp>
#include <weir/utf8.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace weir {

namespace {

// Code points a terminal acts on, or that reorder what is shown.
bool is_unsafe(char32_t code) {
  return code < 0x20 || code == 0x7F || (code >= 0x80 && code <= 0x9F) || code == 0x2028 || code == 0x2029 ||
         (code >= 0x202A && code <= 0x202E) || (code >= 0x2066 && code <= 0x2069);
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto [length, code] = utf8_sequence(text.substr(i));
    if (length == 0) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[i]));
      ++i;
      continue;
    }
    if (!is_unsafe(code)) {
      out.append(text.substr(i, length));
    } else if (code == '\n') {
      out += "\\n";
    } else if (code == '\r') {
      out += "\\r";
    } else if (code == '\t') {
      out += "\\t";
    } else if (code < 0x80) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned>(code));
    } else {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(code));
    }
    i += length;
  }
  return out;
}

std::string Diagnostic::to_string() const {
  std::string out;
  if (!file.empty()) {
    out += printable(file);
    if (line > 0) out += fmt::format(":{}:{}", line, std::max(column, 1));
    out += ": ";
  }
  out += fmt::format("{}: {}", weir::to_string(severity), printable(message));
  if (!hint.empty()) out += " (" + printable(hint) + ")";
  return out;
}

std::string Diagnostic::to_json() const {
  nlohmann::ordered_json object;
  object["file"] = file;
  object["line"] = line;
  object["column"] = line > 0 ? std::max(column, 1) : 0;
  object["severity"] = weir::to_string(severity);
  object["message"] = message;
  object["hint"] = hint;
  return object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string_view to_string(Severity severity) noexcept {
  return severity == Severity::warning ? "warning" : "error";
}

static std::string join(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) {
    if (!out.empty()) out += '\n';
    out += d.to_string();
  }
  return out;
}

ConfigError::ConfigError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join(diagnostics)), diagnostics_(std::move(diagnostics)) {}

static std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& candidate : candidates) {
    const std::size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

}  // namespace weir
