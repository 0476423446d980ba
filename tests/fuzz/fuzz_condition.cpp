// Fuzzes the condition language: parsing any text either gives a condition or
// a ConditionError whose column lies inside the text (or just after it), and
// evaluating a parsed condition against a message made from the same input
// always returns.
//   input: CONDITION [\n PAYLOAD]

#include <weir/condition.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  const std::string_view expression = input.substr(0, newline);
  const std::string_view payload = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  weir::Condition condition;
  try {
    condition = weir::Condition::parse(expression);
  } catch (const weir::ConditionError& e) {
    if (e.column() < 1 || static_cast<std::size_t>(e.column()) > expression.size() + 1) std::abort();
    return 0;
  }
  weir::Message message{std::string(payload)};
  message.attributes.set("kind", std::string(payload.substr(0, 16)));
  message.attributes.set("level", "error");
  message.attributes.set("size", std::to_string(payload.size()));
  message.priority = static_cast<std::int64_t>(size % 10);
  message.id = size;
  (void)condition.matches(message);
  (void)condition.matches(weir::Message{});
  return 0;
}
