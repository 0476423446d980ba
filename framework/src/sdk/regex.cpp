// weir::Regex over RE2. Before RE2 sees a pattern, one scan rewrites
// `(?<name>` to RE2's `(?P<name>` and rejects the constructs RE2 has no
// linear-time answer for, naming them and where they are; RE2's own errors
// are placed by finding the fragment it quotes.

#include <weir/regex.hpp>

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <array>

namespace weir {

struct Regex::Compiled {
  Compiled(const std::string& translated, const RE2::Options& options) : re(translated, options) {}
  std::string pattern;
  RE2 re;
  std::vector<std::pair<std::string, std::size_t>> names;
};

namespace {

struct Translation {
  std::string text;                  // what RE2 compiles
  std::vector<std::size_t> origin;   // origin[i]: the pattern offset text[i] came from
};

[[noreturn]] void unsupported(std::string_view what, std::size_t offset) {
  throw RegexError(fmt::format("{} not supported (RE2 syntax: matching must stay linear in the text)", what), offset);
}

Translation translate(std::string_view pattern) {
  Translation out;
  out.text.reserve(pattern.size() + 8);
  out.origin.reserve(pattern.size() + 8);
  auto copy = [&](std::size_t from, std::size_t count) {
    for (std::size_t k = 0; k < count && from + k < pattern.size(); ++k) {
      out.text += pattern[from + k];
      out.origin.push_back(from + k);
    }
  };
  std::vector<std::string_view> names;
  bool in_class = false;
  bool after_quantifier = false;  // the previous token was an unescaped *, + or ?
  std::size_t i = 0;
  while (i < pattern.size()) {
    const char c = pattern[i];
    const std::string_view rest = pattern.substr(i);
    if (c == '\\') {
      after_quantifier = false;
      const char next = i + 1 < pattern.size() ? pattern[i + 1] : '\0';
      if (!in_class && next >= '1' && next <= '9') unsupported("backreferences such as \\1 are", i);
      if (!in_class && rest.starts_with("\\k<")) unsupported("backreferences such as \\k<name> are", i);
      if (next == 'Q') {  // \Q...\E: everything up to \E is literal
        const std::size_t end = pattern.find("\\E", i + 2);
        const std::size_t stop = end == std::string_view::npos ? pattern.size() : end + 2;
        copy(i, stop - i);
        i = stop;
        continue;
      }
      copy(i, 2);
      i += 2;
      continue;
    }
    if (in_class) {
      if (rest.starts_with("[:")) {  // [:alpha:] inside a class
        const std::size_t end = pattern.find(":]", i + 2);
        if (end != std::string_view::npos) {
          copy(i, end + 2 - i);
          i = end + 2;
          continue;
        }
      }
      if (c == ']') in_class = false;
      copy(i, 1);
      ++i;
      continue;
    }
    if (c == '[') {
      in_class = true;
      after_quantifier = false;
      std::size_t length = 1;
      if (i + length < pattern.size() && pattern[i + length] == '^') ++length;
      if (i + length < pattern.size() && pattern[i + length] == ']') ++length;  // a leading ] is a member
      copy(i, length);
      i += length;
      continue;
    }
    if (rest.starts_with("(?")) {
      after_quantifier = false;
      if (rest.starts_with("(?=") || rest.starts_with("(?!")) unsupported("lookahead (?= and (?! is", i);
      if (rest.starts_with("(?<=") || rest.starts_with("(?<!")) unsupported("lookbehind (?<= and (?<! is", i);
      if (rest.starts_with("(?>")) unsupported("atomic groups (?> are", i);
      if (rest.starts_with("(?P=")) unsupported("backreferences such as (?P=name) are", i);
      if (rest.starts_with("(?<") || rest.starts_with("(?P<")) {
        // RE2 (2022) takes a name twice and keeps one; an attribute per name
        // needs each to be unique.
        const std::size_t name_start = i + (rest[2] == 'P' ? 4 : 3);
        const std::size_t name_end = pattern.find('>', name_start);
        if (name_end != std::string_view::npos) {
          const std::string_view name = pattern.substr(name_start, name_end - name_start);
          if (std::find(names.begin(), names.end(), name) != names.end())
            throw RegexError(fmt::format("the group name '{}' is used twice", name), i);
          names.push_back(name);
        }
      }
      if (rest.starts_with("(?<")) {
        copy(i, 2);
        out.text += 'P';
        out.origin.push_back(i + 2);
        copy(i + 2, 1);
        i += 3;
        continue;
      }
      copy(i, 2);
      i += 2;
      continue;
    }
    if (c == '+' && after_quantifier) unsupported("possessive repetition such as a*+ is", i - 1);
    if (c == '?' && after_quantifier) {
      after_quantifier = false;  // a lazy repetition such as a*?
    } else {
      after_quantifier = c == '*' || c == '+' || c == '?';
    }
    copy(i, 1);
    ++i;
  }
  return out;
}

// RE2 quotes the fragment that is wrong; where it is in the pattern is the
// first place that fragment occurs.
std::size_t locate(const Translation& translation, std::string_view fragment) {
  if (fragment.empty()) return 0;
  const std::size_t at = translation.text.find(fragment);
  if (at == std::string::npos || at >= translation.origin.size()) return 0;
  return translation.origin[at];
}

}  // namespace

Regex::Regex() = default;

Regex Regex::compile(std::string_view pattern, bool ignore_case) {
  const Translation translation = translate(pattern);
  RE2::Options options;
  options.set_log_errors(false);  // the error goes to the caller, with its place
  options.set_case_sensitive(!ignore_case);
  auto compiled = std::make_shared<Compiled>(translation.text, options);
  compiled->pattern = std::string(pattern);
  if (!compiled->re.ok()) {
    const std::string& arg = compiled->re.error_arg();
    const std::size_t offset =
        compiled->re.error_code() == RE2::ErrorPatternTooLarge ? 0 : locate(translation, arg);
    std::string message = compiled->re.error();
    if (compiled->re.error_code() == RE2::ErrorPatternTooLarge)
      message = "the pattern is too large once compiled (over RE2's memory budget); use smaller repetition counts";
    throw RegexError(message, offset);
  }
  for (const auto& [name, number] : compiled->re.NamedCapturingGroups())
    compiled->names.emplace_back(name, static_cast<std::size_t>(number));
  std::sort(compiled->names.begin(), compiled->names.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
  Regex regex;
  regex.compiled_ = std::move(compiled);
  return regex;
}

bool Regex::matches(std::string_view text, Anchor anchor) const noexcept {
  if (!compiled_) return true;
  const re2::StringPiece piece(text.data(), text.size());
  return compiled_->re.Match(piece, 0, piece.size(), anchor == Anchor::whole ? RE2::ANCHOR_BOTH : RE2::UNANCHORED,
                             nullptr, 0);
}

bool Regex::matches(std::string_view text, Anchor anchor,
                    std::span<std::optional<std::string_view>> groups) const noexcept {
  for (auto& group : groups) group.reset();
  if (!compiled_) {
    if (!groups.empty()) groups[0] = text.substr(0, 0);
    return true;
  }
  const std::size_t wanted = std::min(groups.size(), group_count() + 1);
  // Patterns with more groups than this are rare enough to pay an allocation.
  std::array<re2::StringPiece, 32> inline_pieces;
  std::vector<re2::StringPiece> heap_pieces;
  re2::StringPiece* pieces = inline_pieces.data();
  if (wanted > inline_pieces.size()) {
    heap_pieces.resize(wanted);
    pieces = heap_pieces.data();
  }
  const re2::StringPiece piece(text.data(), text.size());
  if (!compiled_->re.Match(piece, 0, piece.size(), anchor == Anchor::whole ? RE2::ANCHOR_BOTH : RE2::UNANCHORED,
                           pieces, static_cast<int>(wanted)))
    return false;
  for (std::size_t i = 0; i < wanted; ++i)
    if (pieces[i].data() != nullptr) groups[i] = std::string_view(pieces[i].data(), pieces[i].size());
  return true;
}

const std::vector<std::pair<std::string, std::size_t>>& Regex::named_groups() const noexcept {
  static const std::vector<std::pair<std::string, std::size_t>> none;
  return compiled_ ? compiled_->names : none;
}

std::size_t Regex::group_count() const noexcept {
  return compiled_ ? static_cast<std::size_t>(std::max(compiled_->re.NumberOfCapturingGroups(), 0)) : 0;
}

const std::string& Regex::pattern() const noexcept {
  static const std::string empty;
  return compiled_ ? compiled_->pattern : empty;
}

}  // namespace weir
