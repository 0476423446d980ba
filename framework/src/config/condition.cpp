// The condition language of `when:`: parsed once into an immutable tree of
// nodes, then evaluated per message with string_views into the message and
// numbers read with std::from_chars, so matching never allocates (RE2 aside,
// whose lazily built automaton grows within a fixed memory budget). `matches`
// runs RE2 (weir::Regex): linear in the text, whatever the pattern. Nesting is
// limited at parse time, so neither the parser nor the evaluator, both
// recursive, can exhaust a thread's stack.

#include <weir/condition.hpp>
#include <weir/regex.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>
#include <vector>

namespace weir {

namespace {

enum class Field { attribute, payload, priority, id, literal };

struct Operand {
  Field field = Field::literal;
  std::string text;  // the attribute name, or the literal's value
  bool numeric = false;
  double number = 0;
};

enum class Op { always, all, any, negate, truthy, exists, equal, not_equal, less, less_equal, greater,
                greater_equal, in, contains, matches };

struct Node {
  Op op = Op::always;
  int column = 1;                     // where it starts in the expression
  std::vector<std::size_t> children;  // all / any / negate
  Operand left;
  Operand right;                      // comparisons, contains
  std::vector<Operand> set;           // in [...]
  Regex regex;                        // matches
};

// A number is what std::from_chars reads completely; "nan"/"inf" are not
// numbers here, so the first character must start a decimal numeral.
std::optional<double> read_number(std::string_view text) noexcept {
  if (text.empty()) return std::nullopt;
  const char first = text.front();
  const bool starts_numeral = (first >= '0' && first <= '9') || first == '-' || first == '.';
  if (!starts_numeral) return std::nullopt;
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// An operand's value for one message. Integers of the message are rendered
// into the inline buffer, so the view stays valid while this object lives;
// hence not copyable. Whether the text is a number is read only when a
// comparison needs it (see compare).
struct Resolved {
  enum class Numeric : std::uint8_t { unknown, yes, no };
  std::string_view text;
  double number = 0;
  Numeric numeric = Numeric::unknown;
  bool present = true;
  char buffer[24];

  Resolved() = default;
  Resolved(const Resolved&) = delete;
  Resolved& operator=(const Resolved&) = delete;

  template <class Integer>
  void set_integer(Integer value) noexcept {
    auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
    text = std::string_view(buffer, error == std::errc() ? static_cast<std::size_t>(end - buffer) : 0);
    number = static_cast<double>(value);
    numeric = Numeric::yes;
  }

  bool is_number() noexcept {
    if (numeric == Numeric::unknown) {
      const auto value = read_number(text);
      numeric = value ? Numeric::yes : Numeric::no;
      if (value) number = *value;
    }
    return numeric == Numeric::yes;
  }
};

void resolve(const Operand& operand, const Message& message, Resolved& out) noexcept {
  switch (operand.field) {
    case Field::literal:
      out.text = operand.text;
      out.numeric = operand.numeric ? Resolved::Numeric::yes : Resolved::Numeric::no;
      out.number = operand.number;
      return;
    case Field::priority: out.set_integer(message.priority); return;
    case Field::id: out.set_integer(message.id); return;
    case Field::payload: out.text = message.payload; return;
    case Field::attribute: {
      const std::string* value = message.attributes.find(operand.text);
      if (!value) {
        out.present = false;
        return;
      }
      out.text = *value;
      return;
    }
  }
}

// <0, 0, >0 like strcmp; numerically when both sides are numbers. The same
// text is equal either way, and a side known not to be a number (a quoted
// literal) spares reading the other: a message's text is read as a number
// only when that can change the answer.
int compare(Resolved& a, Resolved& b) noexcept {
  if (a.text == b.text) return 0;
  if (a.numeric != Resolved::Numeric::no && b.numeric != Resolved::Numeric::no && a.is_number() && b.is_number())
    return a.number < b.number ? -1 : (a.number > b.number ? 1 : 0);
  const int c = a.text.compare(b.text);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

struct Token {
  enum Type { end, identifier, string, number, symbol } type = end;
  std::string text;  // identifier name, string value (unescaped), number text, symbol
  int column = 1;
  std::vector<int> text_columns;  // strings: the column each byte of `text` came from
};

class Lexer {
 public:
  explicit Lexer(std::string_view source) : source_(source) {}

  Token next() {
    while (pos_ < source_.size() && std::isspace(static_cast<unsigned char>(source_[pos_]))) ++pos_;
    Token token;
    token.column = static_cast<int>(pos_) + 1;
    if (pos_ >= source_.size()) return token;
    const char c = source_[pos_];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      token.type = Token::identifier;
      const std::size_t start = pos_;
      while (pos_ < source_.size() && is_name_char(source_[pos_])) ++pos_;
      token.text = std::string(source_.substr(start, pos_ - start));
      return token;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        ((c == '-' || c == '.') && pos_ + 1 < source_.size() && std::isdigit(static_cast<unsigned char>(source_[pos_ + 1])))) {
      token.type = Token::number;
      const std::size_t start = pos_++;
      while (pos_ < source_.size() && (std::isalnum(static_cast<unsigned char>(source_[pos_])) || source_[pos_] == '.')) ++pos_;
      token.text = std::string(source_.substr(start, pos_ - start));
      if (!read_number(token.text)) throw ConditionError(fmt::format("'{}' is not a number", token.text), token.column);
      return token;
    }
    if (c == '"' || c == '\'') return read_string(token);
    static constexpr std::string_view two_char[] = {"==", "!=", "<=", ">=", "&&", "||"};
    for (std::string_view op : two_char)
      if (source_.substr(pos_, 2) == op) {
        token.type = Token::symbol;
        token.text = std::string(op);
        pos_ += 2;
        return token;
      }
    if (std::string_view("<>!()[],").find(c) != std::string_view::npos) {
      token.type = Token::symbol;
      token.text = std::string(1, c);
      ++pos_;
      return token;
    }
    if (c == '=') throw ConditionError("'=' is not an operator (use '==' to compare)", token.column);
    if (c == '&' || c == '|')
      throw ConditionError(fmt::format("'{}' is not an operator (use '{}{}')", c, c, c), token.column);
    throw ConditionError(fmt::format("unexpected character '{}'", c), token.column);
  }

 private:
  // Attribute names such as `http.status` or `x-request-id` are common in
  // message metadata; the language has no arithmetic, so '.' and '-' are safe.
  static bool is_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  }

  Token read_string(Token& token) {
    const char quote = source_[pos_++];
    token.type = Token::string;
    while (pos_ < source_.size() && source_[pos_] != quote) {
      token.text_columns.push_back(static_cast<int>(pos_) + 1);
      char c = source_[pos_++];
      if (c == '\\' && pos_ < source_.size()) {
        const char escaped = source_[pos_++];
        switch (escaped) {
          case 'n': c = '\n'; break;
          case 't': c = '\t'; break;
          case 'r': c = '\r'; break;
          default: c = escaped;  // \" \' \\ and anything else stand for themselves
        }
      }
      token.text += c;
    }
    if (pos_ >= source_.size()) throw ConditionError(fmt::format("unterminated string (missing closing {})", quote), token.column);
    ++pos_;
    return token;
  }

  std::string_view source_;
  std::size_t pos_ = 0;
};

std::string describe(const Token& token) {
  switch (token.type) {
    case Token::end: return "the end of the expression";
    case Token::string: return fmt::format("the string \"{}\"", token.text);
    default: return fmt::format("'{}'", token.text);
  }
}

}  // namespace

struct Condition::Program {
  std::string text;
  std::vector<Node> nodes;
  std::size_t root = 0;
  bool evaluate(std::size_t index, const Message& message) const noexcept;
  bool constant(std::size_t index) const noexcept;
  void collect_constants(std::size_t index, std::vector<Condition::Constant>& out) const;
};

namespace {

// Recursive descent over:
//   or      := and ('||' and)*
//   and     := unary ('&&' unary)*
//   unary   := '!' unary | '(' or ')' | 'exists' '(' name ')' | comparison
//   comparison := operand [('=='|'!='|'<'|'<='|'>'|'>=') operand
//                         | 'in' '[' literal (',' literal)* ']'
//                         | 'contains' operand | 'matches' string]
class Parser {
 public:
  Parser(std::string_view text, std::vector<Node>& nodes) : lexer_(text), nodes_(nodes) { advance(); }

  std::size_t parse() {
    if (current_.type == Token::end) throw ConditionError("empty condition", 1);
    const std::size_t root = parse_or();
    if (current_.type != Token::end) {
      if (current_.type == Token::symbol && current_.text == ")")
        throw ConditionError("')' without a matching '('", current_.column);
      throw ConditionError(fmt::format("expected '&&', '||' or the end, found {}", describe(current_)), current_.column);
    }
    return root;
  }

 private:
  void advance() { current_ = lexer_.next(); }
  bool at_symbol(std::string_view s) const { return current_.type == Token::symbol && current_.text == s; }
  bool at_word(std::string_view w) const { return current_.type == Token::identifier && current_.text == w; }
  void expect_symbol(std::string_view s, std::string_view context) {
    if (!at_symbol(s))
      throw ConditionError(fmt::format("expected '{}' {}, found {}", s, context, describe(current_)), current_.column);
    advance();
  }

  std::size_t add(Node node) {
    nodes_.push_back(std::move(node));
    return nodes_.size() - 1;
  }

  std::size_t parse_chain(Op op, std::string_view symbol, std::size_t (Parser::*operand)()) {
    std::size_t first = (this->*operand)();
    if (!at_symbol(symbol)) return first;
    Node node;
    node.op = op;
    node.column = nodes_[first].column;
    node.children.push_back(first);
    while (at_symbol(symbol)) {
      advance();
      node.children.push_back((this->*operand)());
    }
    return add(std::move(node));
  }
  std::size_t parse_or() { return parse_chain(Op::any, "||", &Parser::parse_and); }
  std::size_t parse_and() { return parse_chain(Op::all, "&&", &Parser::parse_unary); }

  // Raises the nesting level for its lifetime; over the limit, the error
  // points at the '!' or '(' that went too deep.
  class Nesting {
   public:
    Nesting(Parser& parser) : parser_(parser) {
      if (++parser_.depth_ > Condition::max_depth)
        throw ConditionError(fmt::format("nested deeper than {} levels of '!' and parentheses", Condition::max_depth),
                             parser_.current_.column);
    }
    ~Nesting() { --parser_.depth_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;

   private:
    Parser& parser_;
  };

  std::size_t parse_unary() {
    if (at_symbol("!")) {
      Nesting nesting(*this);
      Node node;
      node.column = current_.column;
      advance();
      node.op = Op::negate;
      node.children.push_back(parse_unary());
      return add(std::move(node));
    }
    if (at_symbol("(")) {
      Nesting nesting(*this);
      const int open_column = current_.column;
      advance();
      const std::size_t inner = parse_or();
      if (!at_symbol(")"))
        throw ConditionError(fmt::format("expected ')' to close the '(' at column {}, found {}", open_column,
                                         describe(current_)),
                             current_.column);
      advance();
      return inner;
    }
    if (at_word("exists")) {
      const int column = current_.column;
      advance();
      expect_symbol("(", "after exists");
      if (current_.type != Token::identifier && current_.type != Token::string)
        throw ConditionError(fmt::format("expected an attribute name in exists(...), found {}", describe(current_)),
                             current_.column);
      Node node;
      node.op = Op::exists;
      node.column = column;
      node.left = field_operand(current_.text);
      advance();
      expect_symbol(")", "to close exists(");
      return add(std::move(node));
    }
    return parse_comparison();
  }

  static Operand field_operand(const std::string& name) {
    Operand operand;
    if (name == "payload") operand.field = Field::payload;
    else if (name == "priority") operand.field = Field::priority;
    else if (name == "id") operand.field = Field::id;
    else operand.field = Field::attribute;
    operand.text = name;
    return operand;
  }

  Operand parse_literal(std::string_view context) {
    Operand operand;
    switch (current_.type) {
      case Token::string: operand.text = current_.text; break;
      case Token::number:
        operand.text = current_.text;
        operand.numeric = true;
        operand.number = *read_number(current_.text);
        break;
      default:
        if (at_word("true") || at_word("false")) {
          operand.text = current_.text;
          break;
        }
        throw ConditionError(fmt::format("expected a string, number or boolean {}, found {}", context, describe(current_)),
                             current_.column);
    }
    advance();
    return operand;
  }

  Operand parse_operand(std::string_view context) {
    if (current_.type == Token::identifier && !at_word("true") && !at_word("false")) {
      if (current_.text == "in" || current_.text == "contains" || current_.text == "matches" || current_.text == "exists")
        throw ConditionError(fmt::format("expected a value {}, found the keyword '{}'", context, current_.text),
                             current_.column);
      Operand operand = field_operand(current_.text);
      advance();
      return operand;
    }
    if (current_.type != Token::string && current_.type != Token::number && !at_word("true") && !at_word("false"))
      throw ConditionError(fmt::format("expected a value {}, found {}", context, describe(current_)), current_.column);
    return parse_literal(context);
  }

  std::size_t parse_comparison() {
    const Token first = current_;
    Node node;
    node.column = first.column;
    node.left = parse_operand("at the start of a comparison");
    static constexpr std::pair<std::string_view, Op> comparisons[] = {
        {"==", Op::equal}, {"!=", Op::not_equal}, {"<", Op::less}, {"<=", Op::less_equal},
        {">", Op::greater}, {">=", Op::greater_equal}};
    for (auto [symbol, op] : comparisons)
      if (at_symbol(symbol)) {
        advance();
        node.op = op;
        node.right = parse_operand(fmt::format("after '{}'", symbol));
        return add(std::move(node));
      }
    if (at_word("in")) {
      advance();
      expect_symbol("[", "after 'in'");
      node.op = Op::in;
      if (!at_symbol("]")) {
        node.set.push_back(parse_literal("in the list"));
        while (at_symbol(",")) {
          advance();
          node.set.push_back(parse_literal("in the list"));
        }
      }
      expect_symbol("]", "to close the list");
      return add(std::move(node));
    }
    if (at_word("contains")) {
      advance();
      node.op = Op::contains;
      node.right = parse_operand("after 'contains'");
      return add(std::move(node));
    }
    if (at_word("matches")) {
      advance();
      if (current_.type != Token::string)
        throw ConditionError(fmt::format("expected a regular expression string after 'matches', found {}",
                                         describe(current_)),
                             current_.column);
      try {
        node.regex = Regex::compile(current_.text);
      } catch (const RegexError& e) {
        const int column = e.offset() < current_.text_columns.size() ? current_.text_columns[e.offset()]
                                                                      : current_.column;
        throw ConditionError(fmt::format("bad regular expression \"{}\": {}", current_.text, e.what()), column);
      }
      node.op = Op::matches;
      advance();
      return add(std::move(node));
    }
    // A lone value is a test of its truth: `urgent`, `true`.
    if (first.type == Token::string || first.type == Token::number)
      throw ConditionError(fmt::format("expected an operator after {}", describe(first)), current_.column);
    if (current_.type != Token::end && !at_symbol(")") && !at_symbol("&&") && !at_symbol("||"))
      throw ConditionError(fmt::format("expected an operator after '{}', found {}", first.text, describe(current_)),
                           current_.column);
    node.op = Op::truthy;
    return add(std::move(node));
  }

  Lexer lexer_;
  std::vector<Node>& nodes_;
  Token current_;
  int depth_ = 0;
};

bool truthy(Resolved& value) noexcept {
  if (!value.present) return false;
  if (value.is_number()) return value.number != 0;
  return !value.text.empty() && value.text != "false";
}

}  // namespace

bool Condition::Program::evaluate(std::size_t index, const Message& message) const noexcept {
  const Node& node = nodes[index];
  switch (node.op) {
    case Op::always: return true;
    case Op::all:
      for (std::size_t child : node.children)
        if (!evaluate(child, message)) return false;
      return true;
    case Op::any:
      for (std::size_t child : node.children)
        if (evaluate(child, message)) return true;
      return false;
    case Op::negate: return !evaluate(node.children.front(), message);
    case Op::exists:
      return node.left.field != Field::attribute || message.attributes.contains(node.left.text);
    default: break;
  }
  Resolved left;
  resolve(node.left, message, left);
  if (node.op == Op::truthy) return truthy(left);
  if (!left.present) return node.op == Op::not_equal;
  switch (node.op) {
    case Op::in:
      for (const Operand& candidate : node.set) {
        Resolved right;
        resolve(candidate, message, right);
        if (compare(left, right) == 0) return true;
      }
      return false;
    case Op::matches: return node.regex.matches(left.text);
    default: break;
  }
  Resolved right;
  resolve(node.right, message, right);
  if (!right.present) return node.op == Op::not_equal;
  switch (node.op) {
    case Op::contains: return left.text.find(right.text) != std::string_view::npos;
    case Op::equal: return compare(left, right) == 0;
    case Op::not_equal: return compare(left, right) != 0;
    case Op::less: return compare(left, right) < 0;
    case Op::less_equal: return compare(left, right) <= 0;
    case Op::greater: return compare(left, right) > 0;
    case Op::greater_equal: return compare(left, right) >= 0;
    default: return false;
  }
}

bool Condition::Program::constant(std::size_t index) const noexcept {
  const Node& node = nodes[index];
  switch (node.op) {
    case Op::always: return true;
    case Op::all:
    case Op::any:
    case Op::negate:
      return std::all_of(node.children.begin(), node.children.end(), [this](std::size_t c) { return constant(c); });
    case Op::exists: return node.left.field != Field::attribute;  // payload, priority and id always exist
    case Op::truthy:
    case Op::in:
    case Op::matches: return node.left.field == Field::literal;
    default: return node.left.field == Field::literal && node.right.field == Field::literal;
  }
}

void Condition::Program::collect_constants(std::size_t index, std::vector<Condition::Constant>& out) const {
  const Node& node = nodes[index];
  if (constant(index)) {
    // A constant part reads nothing of the message, so any message will do.
    static const Message nothing;
    out.push_back(Condition::Constant{node.column, evaluate(index, nothing), index == root});
    return;
  }
  for (std::size_t child : node.children) collect_constants(child, out);
}

std::vector<Condition::Constant> Condition::constants() const {
  std::vector<Constant> out;
  if (program_) program_->collect_constants(program_->root, out);
  return out;
}

Condition::Condition() = default;

Condition Condition::parse(std::string_view expression) {
  auto program = std::make_shared<Program>();
  program->text = std::string(expression);
  Parser parser(program->text, program->nodes);
  program->root = parser.parse();
  Condition condition;
  condition.program_ = std::move(program);
  return condition;
}

bool Condition::matches(const Message& message) const noexcept {
  return !program_ || program_->evaluate(program_->root, message);
}

const std::string& Condition::text() const noexcept {
  static const std::string always_true;
  return program_ ? program_->text : always_true;
}

Condition::Condition(const Condition&) = default;
Condition& Condition::operator=(const Condition&) = default;
Condition::Condition(Condition&&) noexcept = default;
Condition& Condition::operator=(Condition&&) noexcept = default;
Condition::~Condition() = default;

}  // namespace weir
