#pragma once
// Text templates over a message, compiled once per stage:
//   {payload} {priority} {id}   the message's own fields
//   {attr:NAME} or {NAME}       an attribute (empty when missing)
//   {{ and }}                   literal braces
// Templates do not nest, and compiling reads the text once: no template can
// exhaust the stack or take more than linear time.
// A plugin may add variables of its own (generate: {seq}, {replica}); they take
// precedence over attribute names. A '{' that is not followed by a name
// character stays literal, so JSON such as {"a": 1} needs no escaping; a '{'
// followed by a name must close it with '}' ("{level: x" is a mistake, and
// says so with its column).

#include <weir/message.hpp>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace weir {

// A template that does not compile; column() is 1-based inside the text.
class TemplateError : public std::invalid_argument {
 public:
  // What to tell whoever wrote the template, beside the error.
  static constexpr const char* hint = "write {{ and }} for literal braces";

  TemplateError(const std::string& message, int column) : std::invalid_argument(message), column_(column) {}
  int column() const noexcept { return column_; }

 private:
  int column_;
};

class Template {
 public:
  Template() = default;

  // Throws TemplateError.
  static Template compile(std::string_view text, std::initializer_list<std::string_view> variables = {}) {
    Template compiled;
    compiled.text_ = std::string(text);
    std::string literal;
    auto flush_literal = [&] {
      if (!literal.empty()) compiled.pieces_.push_back({Part::literal, std::move(literal), 0});
      literal.clear();
    };
    // A name is scanned once and ends at the first character that cannot be
    // in one ('{' cannot), so the text is read in linear time.
    for (std::size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
        literal += c;
        ++i;
        continue;
      }
      if (c != '{' || i + 1 == text.size() || !is_name_char(text[i + 1])) {
        literal += c;
        continue;
      }
      std::size_t end = i + 1;
      while (end < text.size() && is_name_char(text[end])) ++end;
      if (end == text.size() || text[end] != '}') {
        const std::string_view name = text.substr(i + 1, end - i - 1);
        throw TemplateError(
            end == text.size()
                ? "placeholder '{" + std::string(name) + "' is not closed with '}'"
                : "placeholder '{" + std::string(name) + "' is followed by '" + std::string(1, text[end]) +
                      "' instead of '}'",
            static_cast<int>(end) + 1);
      }
      flush_literal();
      compiled.pieces_.push_back(resolve(text.substr(i + 1, end - i - 1), variables));
      i = end;
    }
    flush_literal();
    return compiled;
  }

  // The same text with the plugin's own variables (see compile).
  Template bind(std::initializer_list<std::string_view> variables) const { return compile(text_, variables); }

  void render_to(std::string& out, const Message& message, std::span<const std::string> values = {}) const {
    for (const Piece& piece : pieces_) {
      switch (piece.part) {
        case Part::literal: out += piece.text; break;
        case Part::payload: out += message.payload; break;
        case Part::priority: out += std::to_string(message.priority); break;
        case Part::id: out += std::to_string(message.id); break;
        case Part::attribute:
          if (const std::string* value = message.attributes.find(piece.text)) out += *value;
          break;
        case Part::variable:
          if (piece.index < values.size()) out += values[piece.index];
          break;
      }
    }
  }

  std::string render(const Message& message, std::span<const std::string> values = {}) const {
    std::string out;
    render_to(out, message, values);
    return out;
  }

  bool is_literal() const noexcept {
    return std::all_of(pieces_.begin(), pieces_.end(), [](const Piece& p) { return p.part == Part::literal; });
  }
  const std::string& text() const noexcept { return text_; }

 private:
  enum class Part { literal, payload, priority, id, attribute, variable };
  struct Piece {
    Part part;
    std::string text;
    std::size_t index;
  };

  static bool is_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' || c == ':';
  }

  static Piece resolve(std::string_view name, std::initializer_list<std::string_view> variables) {
    std::size_t index = 0;
    for (std::string_view variable : variables) {
      if (variable == name) return {Part::variable, {}, index};
      ++index;
    }
    if (name == "payload") return {Part::payload, {}, 0};
    if (name == "priority") return {Part::priority, {}, 0};
    if (name == "id") return {Part::id, {}, 0};
    if (name.starts_with("attr:")) name.remove_prefix(5);
    return {Part::attribute, std::string(name), 0};
  }

  std::string text_;
  std::vector<Piece> pieces_;
};

}  // namespace weir
