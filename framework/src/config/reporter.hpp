#pragma once
// Collects configuration problems with the YAML position they belong to.
// Values that came from `--set` have no place in the file; they are reported
// against the override's own text instead.

#include <weir/diagnostics.hpp>

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace weir::config {

// Where a problem is: a file and the position in it, or the text standing for
// one (an override's `--set ...`, a code-built stage's `<stage 'x' config>`).
struct Place {
  std::string file;
  SourcePosition position;
};

class Reporter {
 public:
  explicit Reporter(std::string file) : file_(std::move(file)) {}

  const std::string& file() const noexcept { return file_; }
  Place place(const YAML::Node& node) const;
  // `offset` columns to the right of where the node starts (inside a scalar).
  Place place(const YAML::Node& node, int offset) const;
  // Column `column` (1-based) of a scalar's text: past the opening quote when
  // the scalar is quoted. (Escapes in a double-quoted scalar would shift it
  // further; conditions and patterns rarely need them, since single quotes
  // keep double quotes plain.) Where the text is no longer what the file
  // says (an environment variable was replaced in it), the scalar's start.
  Place place_inside(const YAML::Node& scalar, int column) const;
  // `scalar`'s text was changed after parsing (see place_inside).
  void mark_rewritten(const YAML::Node& scalar) { rewritten_.push_back(scalar); }

  void error(const Place& at, std::string message, std::string hint = {});
  void error(const YAML::Node& at, std::string message, std::string hint = {}) {
    error(place(at), std::move(message), std::move(hint));
  }

  // Something that runs, but not as the author probably meant.
  void warn(const Place& at, std::string message, std::string hint = {});

  void add(Diagnostic diagnostic) { diagnostics_.push_back(std::move(diagnostic)); }

  // Problems found later inside `scalar` (already reported as the cause)
  // are left out.
  void quiet(const YAML::Node& scalar);

  bool from_override(const YAML::Node& node) const;
  // `node` and everything below it came from this override.
  void mark_override(const YAML::Node& node, const std::string& override_text);

  bool empty() const noexcept { return diagnostics_.empty(); }
  bool has_errors() const noexcept { return error_count() > 0; }
  std::size_t error_count() const noexcept;
  std::size_t count() const noexcept { return diagnostics_.size(); }
  // File positions in order, override problems first.
  std::vector<Diagnostic> take_sorted();

 private:
  std::string file_;
  std::vector<std::pair<YAML::Node, std::string>> override_nodes_;
  struct Span {
    int line, first_column, last_column;
  };
  std::vector<Span> quiet_;
  std::vector<std::string> quiet_overrides_;
  std::vector<YAML::Node> rewritten_;
  std::vector<Diagnostic> diagnostics_;
};

// "did you mean 'x'?" or "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);
// "a, b or c"
std::string one_of(const std::vector<std::string>& words);

}  // namespace weir::config
