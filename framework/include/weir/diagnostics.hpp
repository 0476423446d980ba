#pragma once
// Configuration-time problems: each names where it is (file, line, column, or
// the plugin and option) and, where one helps, what would be right.

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace weir {

// Where something is written in a file (a stage, a test, a problem).
struct SourcePosition {
  int line = 0;  // 1-based; 0: not from a file, or no position
  int column = 0;
};

// An error stops the pipeline from running; a warning does not (unless the
// user asks for --strict), but says where messages could be lost or memory
// outgrow what was meant.
enum class Severity { error, warning };

struct Diagnostic {
  std::string file;     // the YAML file or plugin library; may be empty
  int line = 0;         // 1-based; 0 when there is no position
  int column = 0;       // 1-based
  std::string message;  // what is wrong
  std::string hint;     // what would be right (did you mean …); may be empty
  Severity severity = Severity::error;

  SourcePosition position() const noexcept { return {line, column}; }

  // `FILE:LINE:COL: error: message (hint)` (or `warning:`), leaving out what
  // is unknown; always one line, every part passed through printable().
  std::string to_string() const;
  // One JSON object: {"file", "line", "column", "severity", "message", "hint"}
  // (line and column 0 when unknown); the text as given, JSON-escaped, with
  // bytes that are not UTF-8 replaced by U+FFFD.
  std::string to_json() const;
};

std::string_view to_string(Severity severity) noexcept;

// Thrown once every problem has been collected; what() joins them, one a line.
// The list holds the errors and, in position order among them, the warnings
// found in the same pass.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<Diagnostic> diagnostics);
  const std::vector<Diagnostic>& diagnostics() const noexcept { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

// `text` made safe to print on one line of a terminal or log: control
// characters (newlines included), C1 controls, bidirectional overrides and
// bytes that are not UTF-8 become escapes (\n, \x1b, \u202e), so user text
// quoted in a diagnostic can neither forge another `FILE:LINE:COL: error:`
// line nor move the cursor. Valid printable UTF-8 stays as it is.
std::string printable(std::string_view text);

// The closest of `candidates` to `word` by edit distance, or "" when none is
// close enough to be a plausible typo.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace weir
