#pragma once
// Conditions (`when:`): small expressions over a message, parsed once at load
// and evaluated without allocating.
//   kind == "report_generate" && priority >= 5
//   level in ["error", "fatal"] || payload contains "panic"
//   exists(user) && !(user matches "^test-")

#include <weir/message.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace weir {

// A parse error; column() is 1-based inside the expression text.
class ConditionError : public std::runtime_error {
 public:
  ConditionError(const std::string& message, int column)
      : std::runtime_error(message), column_(column) {}
  int column() const noexcept { return column_; }

 private:
  int column_;
};

class Condition {
 public:
  // How deeply '!' and parentheses may nest; deeper is a ConditionError at
  // the token that goes over, never a stack overflow.
  static constexpr int max_depth = 100;

  // An always-true condition.
  Condition();
  // Throws ConditionError.
  static Condition parse(std::string_view expression);

  bool matches(const Message& message) const noexcept;
  bool operator()(const Message& message) const noexcept { return matches(message); }
  const std::string& text() const noexcept;

  // A part of the expression whose value does not depend on the message: a
  // literal compared with a literal (`"a" == "b"`), a lone literal (`true`),
  // `exists(payload)`. Validation warns about them: they are mistakes.
  struct Constant {
    int column;  // 1-based in the expression, where the part starts
    bool value;  // what it always is
    bool whole;  // the part is the whole expression
  };
  // The whole expression when it is constant; else its outermost constant parts.
  std::vector<Constant> constants() const;

  Condition(const Condition&);
  Condition& operator=(const Condition&);
  Condition(Condition&&) noexcept;
  Condition& operator=(Condition&&) noexcept;
  ~Condition();

 private:
  struct Program;
  std::shared_ptr<const Program> program_;  // immutable once parsed, shared by copies
};

}  // namespace weir
