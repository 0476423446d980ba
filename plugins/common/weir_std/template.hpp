#pragma once
// Text templates over a message, compiled once per stage:
//   {payload} {priority} {id}   the message's own fields
//   {attr:NAME} or {NAME}       an attribute (empty when missing)
//   {{ and }}                   literal braces
// Templates do not nest, and compiling reads the text once: no template can
// exhaust the stack or take more than linear time.
// A plugin may add variables of its own (generate: {seq}, {replica}); they take
// precedence over attribute names. Anything in braces that is not a name
// (letters, digits, _ . - :) stays literal, so JSON such as {"a": 1} needs no
// escaping.

#include "option_checks.hpp"

#include <weir/message.hpp>

#include <algorithm>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace weir::stdp {

class Template {
 public:
  Template() = default;

  static Template compile(std::string_view text, std::initializer_list<std::string_view> variables = {}) {
    Template compiled;
    compiled.text_ = std::string(text);
    std::string literal;
    auto flush_literal = [&] {
      if (!literal.empty()) compiled.pieces_.push_back({Part::literal, std::move(literal), 0});
      literal.clear();
    };
    // The next '}' at or after a position, found once and reused by every
    // '{' before it, so a text of many '{' is still read in linear time.
    std::size_t next_close = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
        literal += c;
        ++i;
        continue;
      }
      if (c != '{') {
        literal += c;
        continue;
      }
      if (next_close != std::string_view::npos && next_close <= i) next_close = text.find('}', i + 1);
      const std::size_t close = next_close;
      std::string_view name = close == std::string_view::npos ? std::string_view() : text.substr(i + 1, close - i - 1);
      if (!is_name(name)) {
        literal += c;
        continue;
      }
      flush_literal();
      compiled.pieces_.push_back(resolve(name, variables));
      i = close;
    }
    flush_literal();
    return compiled;
  }

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

  static bool is_name(std::string_view name) {
    if (name.empty()) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' || c == ':';
    });
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

}  // namespace weir::stdp
