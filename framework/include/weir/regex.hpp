#pragma once
// Regular expressions for the condition language (`matches`) and for plugins
// (the `regex` processor): RE2's syntax and engine, so matching takes time
// linear in the text and memory bounded by the compiled pattern, with no
// recursion on the input. A hostile pattern or a 400 KB line cannot stall a
// stage or overflow its stack.
//
// Accepted: RE2's syntax (https://github.com/google/re2/wiki/Syntax), plus
// `(?<name>...)` as a spelling of `(?P<name>...)`. Rejected with the position
// of the construct: backreferences (`\1`, `(?P=name)`, `\k<name>`),
// lookahead and lookbehind (`(?=`, `(?!`, `(?<=`, `(?<!`), atomic groups
// (`(?>`), possessive repetition (`a*+`).

#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weir {

// A pattern that does not compile; offset() is the 0-based byte offset in the
// pattern where the problem is.
class RegexError : public std::invalid_argument {
 public:
  RegexError(const std::string& message, std::size_t offset) : std::invalid_argument(message), offset_(offset) {}
  std::size_t offset() const noexcept { return offset_; }

 private:
  std::size_t offset_;
};

class Regex {
 public:
  enum class Anchor {
    search,  // the pattern may match anywhere in the text
    whole,   // the pattern must match all of the text
  };

  // Matches every text (the empty pattern).
  Regex();
  // Throws RegexError.
  static Regex compile(std::string_view pattern, bool ignore_case = false);

  bool matches(std::string_view text, Anchor anchor = Anchor::search) const noexcept;
  // As matches(), filling groups[i] with capturing group i (0: the whole
  // match) for as many groups as `groups` holds; a group that took no part
  // in the match is left empty. Views point into `text`.
  bool matches(std::string_view text, Anchor anchor, std::span<std::optional<std::string_view>> groups) const noexcept;

  // Named groups, in the order they open: (name, group number).
  const std::vector<std::pair<std::string, std::size_t>>& named_groups() const noexcept;
  std::size_t group_count() const noexcept;
  const std::string& pattern() const noexcept;

 private:
  struct Compiled;
  std::shared_ptr<const Compiled> compiled_;  // immutable and thread-safe to match with, shared by copies
};

}  // namespace weir
