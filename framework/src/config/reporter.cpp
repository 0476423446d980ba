#include "config/reporter.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace weir::config {

Place Reporter::place(const YAML::Node& node) const { return place(node, 0); }

bool Reporter::from_override(const YAML::Node& node) const {
  for (const auto& entry : override_nodes_)
    if (entry.first.is(node)) return true;
  return false;
}

Place Reporter::place(const YAML::Node& node, int offset) const {
  for (const auto& [marked, text] : override_nodes_)
    if (marked.is(node)) return Place{"--set " + text, {}};
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0) return Place{file_, {}};
  return Place{file_, {mark.line + 1, mark.column + 1 + offset}};
}

Place Reporter::place_inside(const YAML::Node& scalar, int column) const {
  for (const YAML::Node& changed : rewritten_)
    if (changed.is(scalar)) return place(scalar);
  const int quote = scalar.Tag() == "!" ? 1 : 0;
  return place(scalar, quote + std::max(column, 1) - 1);
}

void Reporter::quiet(const YAML::Node& scalar) {
  const Place at = place(scalar);
  if (at.file != file_) {
    quiet_overrides_.push_back(at.file);  // the override's text stands for its whole value
    return;
  }
  if (at.position.line == 0) return;
  // A quoted scalar's text is two quotes longer in the file; one on a single
  // line is all this needs to cover.
  quiet_.push_back(
      Span{at.position.line, at.position.column, at.position.column + static_cast<int>(scalar.Scalar().size()) + 1});
}

void Reporter::error(const Place& at, std::string message, std::string hint) {
  for (const Span& span : quiet_)
    if (at.file == file_ && at.position.line == span.line && at.position.column >= span.first_column &&
        at.position.column <= span.last_column)
      return;
  if (std::find(quiet_overrides_.begin(), quiet_overrides_.end(), at.file) != quiet_overrides_.end()) return;
  diagnostics_.push_back(
      Diagnostic{at.file, at.position.line, at.position.column, std::move(message), std::move(hint)});
}

void Reporter::warn(const Place& at, std::string message, std::string hint) {
  diagnostics_.push_back(
      Diagnostic{at.file, at.position.line, at.position.column, std::move(message), std::move(hint), Severity::warning});
}

std::size_t Reporter::error_count() const noexcept {
  return static_cast<std::size_t>(std::count_if(diagnostics_.begin(), diagnostics_.end(),
                                                [](const Diagnostic& d) { return d.severity == Severity::error; }));
}

void Reporter::mark_override(const YAML::Node& node, const std::string& override_text) {
  override_nodes_.emplace_back(node, override_text);
  if (node.IsSequence()) {
    for (const auto& child : node) mark_override(child, override_text);
  } else if (node.IsMap()) {
    for (const auto& entry : node) {
      mark_override(entry.first, override_text);
      mark_override(entry.second, override_text);
    }
  }
}

std::vector<Diagnostic> Reporter::take_sorted() {
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(), [this](const Diagnostic& a, const Diagnostic& b) {
    const bool a_in_file = a.file == file_;
    const bool b_in_file = b.file == file_;
    if (a_in_file != b_in_file) return b_in_file;
    if (!a_in_file) return false;
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  return std::move(diagnostics_);
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  const std::string match = closest_match(word, candidates);
  return match.empty() ? std::string() : fmt::format("did you mean '{}'?", match);
}

std::string one_of(const std::vector<std::string>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
}

}  // namespace weir::config
