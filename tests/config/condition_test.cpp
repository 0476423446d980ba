#include <weir/condition.hpp>

#include <catch2/catch.hpp>

using weir::Condition;
using weir::ConditionError;
using weir::Message;

namespace {

Message job(std::string kind, std::int64_t priority = 0) {
  Message m("hello panic world");
  m.attributes.set("kind", std::move(kind));
  m.priority = priority;
  m.id = 42;
  return m;
}

bool eval(std::string_view expression, const Message& m) { return Condition::parse(expression).matches(m); }

int error_column(std::string_view expression) {
  try {
    Condition::parse(expression);
  } catch (const ConditionError& e) {
    return e.column();
  }
  return 0;
}

std::string error_message(std::string_view expression) {
  try {
    Condition::parse(expression);
  } catch (const ConditionError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a default condition matches everything", "[config][condition]") {
  CHECK(Condition().matches(Message()));
  CHECK(Condition().text().empty());
}

TEST_CASE("equality and inequality on attributes, payload and fields", "[config][condition]") {
  const Message m = job("report_generate", 7);
  CHECK(eval(R"(kind == "report_generate")", m));
  CHECK_FALSE(eval(R"(kind == "email_send")", m));
  CHECK(eval(R"(kind != 'email_send')", m));
  CHECK(eval("priority == 7", m));
  CHECK(eval("id == 42", m));
  CHECK(eval(R"(payload == "hello panic world")", m));
  CHECK(eval(R"(id == "42")", m));  // the string form of a number field
}

TEST_CASE("numbers compare numerically, everything else as strings", "[config][condition]") {
  Message m;
  m.attributes.set("size", "10");
  m.attributes.set("name", "b");
  CHECK(eval("size > 9", m));      // numerically, though "10" < "9" as strings
  CHECK(eval("size >= 10.0", m));  // 10 == 10.0
  CHECK(eval("size < 1e3", m));
  CHECK(eval("name > \"a\"", m));
  CHECK(eval("name <= \"b\"", m));
  CHECK_FALSE(eval("name < \"b\"", m));
  CHECK(eval("priority >= -1", m));
  CHECK(eval("size == \"10\"", m));
  // A message's text is read as a number only when that can change the
  // answer; the answers stay those of reading both sides every time.
  m.attributes.set("ratio", "1.0");
  CHECK(eval("ratio == 1", m));             // different texts, the same number
  CHECK_FALSE(eval("ratio != 1", m));
  CHECK_FALSE(eval("ratio == \"1\"", m));   // a quoted literal compares as a string
  CHECK(eval("ratio > \"1\"", m));          // "1.0" after "1" as strings
  CHECK(eval("ratio in [2, 1]", m));
  CHECK(eval("size in [\"10\"]", m));
  CHECK(eval("size == size", m));
  m.attributes.set("zero", "0");
  m.attributes.set("word", "no");
  CHECK_FALSE(eval("zero", m));             // truthy: 0 is false as a number
  CHECK(eval("word", m));
  CHECK(eval("zero == 0.0", m));
  CHECK(eval("zero < word", m));            // "0" < "no" as strings: one side is no number
}

TEST_CASE("in, contains, matches, exists", "[config][condition]") {
  const Message m = job("image_resize", 3);
  CHECK(eval(R"(kind in ["email_send", "image_resize"])", m));
  CHECK_FALSE(eval(R"(kind in ["email_send"])", m));
  CHECK(eval("priority in [1, 2, 3]", m));
  CHECK_FALSE(eval("kind in []", m));
  CHECK(eval(R"(payload contains "panic")", m));
  CHECK_FALSE(eval(R"(payload contains "calm")", m));
  CHECK(eval(R"(kind matches "^image_")", m));
  CHECK_FALSE(eval(R"(kind matches "^email")", m));
  CHECK(eval("exists(kind)", m));
  CHECK_FALSE(eval("exists(user)", m));
  CHECK(eval("exists(payload)", m));
}

TEST_CASE("boolean operators, precedence and parentheses", "[config][condition]") {
  const Message m = job("report_generate", 7);
  CHECK(eval(R"(kind == "report_generate" && priority >= 5)", m));
  CHECK_FALSE(eval(R"(kind == "report_generate" && priority >= 8)", m));
  CHECK(eval(R"(kind == "x" || priority == 7)", m));
  // && binds tighter than ||
  CHECK(eval(R"(priority == 7 || kind == "x" && priority == 0)", m));
  CHECK_FALSE(eval(R"((priority == 7 || kind == "x") && priority == 0)", m));
  CHECK(eval(R"(!(kind == "x"))", m));
  CHECK(eval("!!exists(kind)", m));
  CHECK(eval("true", m));
  CHECK_FALSE(eval("false", m));
}

TEST_CASE("a missing attribute matches no comparison except !=", "[config][condition]") {
  const Message m = job("email_send");
  CHECK_FALSE(eval(R"(user == "bob")", m));
  CHECK_FALSE(eval("user < 3", m));
  CHECK(eval(R"(user != "bob")", m));
  CHECK_FALSE(eval(R"(user in ["bob"])", m));
  CHECK_FALSE(eval(R"(user contains "b")", m));
  CHECK_FALSE(eval(R"(user matches ".*")", m));
  CHECK_FALSE(eval("user", m));
}

TEST_CASE("a lone attribute tests its truth", "[config][condition]") {
  Message m;
  m.attributes.set("urgent", "true");
  m.attributes.set("quiet", "false");
  m.attributes.set("zero", "0");
  CHECK(eval("urgent", m));
  CHECK_FALSE(eval("quiet", m));
  CHECK_FALSE(eval("zero", m));
  CHECK(eval("urgent && !quiet", m));
}

TEST_CASE("attribute names may contain dots and dashes", "[config][condition]") {
  Message m;
  m.attributes.set("http.status", "503");
  m.attributes.set("x-request-id", "abc");
  CHECK(eval("http.status >= 500", m));
  CHECK(eval("exists(x-request-id)", m));
}

TEST_CASE("string escapes", "[config][condition]") {
  Message m;
  m.attributes.set("quote", "say \"hi\"");
  CHECK(eval(R"(quote == "say \"hi\"")", m));
  CHECK(eval(R"(quote contains '"hi"')", m));
}

TEST_CASE("copies share one parsed program and keep the text", "[config][condition]") {
  const Condition original = Condition::parse("priority > 1");
  Condition copy = original;
  CHECK(copy.text() == "priority > 1");
  CHECK(copy.matches(job("x", 2)));
  Condition moved = std::move(copy);
  CHECK_FALSE(moved.matches(job("x", 1)));
}

TEST_CASE("parse errors name the 1-based column inside the expression", "[config][condition]") {
  CHECK(error_column(R"(kind = "x")") == 6);
  CHECK(error_message(R"(kind = "x")") == "'=' is not an operator (use '==' to compare)");
  CHECK(error_column("kind == ") == 9);
  CHECK(error_message("kind == ") == "expected a value after '==', found the end of the expression");
  CHECK(error_column(R"(kind == "x)") == 9);
  CHECK(error_message(R"(kind == "x)") == "unterminated string (missing closing \")");
  CHECK(error_column("(priority > 1") == 14);
  CHECK(error_message("(priority > 1") ==
        "expected ')' to close the '(' at column 1, found the end of the expression");
  CHECK(error_column("priority > 1)") == 13);
  CHECK(error_column("a & b") == 3);
  CHECK(error_message("a & b") == "'&' is not an operator (use '&&')");
  CHECK(error_column("kind in [1, ]") == 13);
  CHECK(error_column("kind matches 5") == 14);
  CHECK(error_column(R"(user matches "(")") == 15);  // the '(' inside the string
  CHECK(error_message(R"(user matches "(")").rfind("bad regular expression \"(\": ", 0) == 0);
  CHECK(error_column("exists(1)") == 8);
  CHECK(error_column("") == 1);
  CHECK(error_message("") == "empty condition");
  CHECK(error_column("kind foo") == 6);
  CHECK(error_column("12abc > 1") == 1);
  CHECK(error_column("a == b c") == 8);
  CHECK(error_column("kind == in") == 9);
  CHECK(error_column("priority > 1 ^ 2") == 14);
}

// Each of these crashed or stalled the process with std::regex and a
// recursive parser without limits (issue 16).
TEST_CASE("matches is linear: a 400 KB line and a pattern that backtracks exponentially", "[config][condition]") {
  // std::regex recursed once per character here and overflowed the stack.
  Message long_line(std::string(400 * 1024, 'a') + "c");
  CHECK(eval(R"(payload matches "(a|b)*c")", long_line));
  long_line.payload.back() = 'd';
  CHECK_FALSE(eval(R"(payload matches "(a|b)*c")", long_line));
  // Exponential backtracking: seconds at 26 characters, ×4 per 2 more; at
  // 60 this would not finish in a human lifetime.
  const Message hostile(std::string(60, 'a') + "!");
  CHECK_FALSE(eval(R"(payload matches "^(a+)+$")", hostile));
  CHECK(eval(R"(payload matches "^(a+)+$")", Message(std::string(60, 'a'))));
}

TEST_CASE("matches takes RE2 syntax and rejects backreferences and lookaround with a column", "[config][condition]") {
  CHECK(eval(R"c(kind matches "^(?P<what>image)_(?<how>\\w+)$")c", job("image_resize")));
  CHECK(eval(R"c(kind matches "(?i)^IMAGE")c", job("image_resize")));
  // Columns: the opening quote is column 14, the pattern starts at 15.
  CHECK(error_column(R"c(kind matches "(a)\\1")c") == 18);
  CHECK_THAT(error_message(R"c(kind matches "(a)\\1")c"), Catch::Contains("backreferences"));
  CHECK(error_column(R"c(kind matches "x(?=y)")c") == 16);
  CHECK_THAT(error_message(R"c(kind matches "x(?=y)")c"), Catch::Contains("lookahead"));
  CHECK(error_column(R"c(kind matches "x(?<!y)")c") == 16);
  CHECK_THAT(error_message(R"c(kind matches "x(?<!y)")c"), Catch::Contains("lookbehind"));
  CHECK(error_column(R"c(kind matches "ab[z-a]")c") == 18);  // RE2's own error, placed at its fragment
}

TEST_CASE("nesting deeper than the limit is an error at the token that goes over", "[config][condition]") {
  const auto nested = [](std::size_t depth) {
    return std::string(depth, '(') + "kind == \"x\"" + std::string(depth, ')');
  };
  CHECK(eval(nested(Condition::max_depth), job("x")));
  CHECK(error_column(nested(Condition::max_depth + 1)) == Condition::max_depth + 1);
  CHECK_THAT(error_message(nested(5000)), Catch::Contains("nested deeper than"));
  CHECK(error_column(nested(5000)) == Condition::max_depth + 1);

  CHECK(eval(std::string(Condition::max_depth, '!') + "exists(kind)", job("x")));
  CHECK(error_column(std::string(10000, '!') + "exists(kind)") == Condition::max_depth + 1);
  CHECK(error_column(std::string(2000, '!') + std::string(2000, '(') + "kind") == Condition::max_depth + 1);
}
