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
  CHECK(error_column(R"(user matches "(")") == 14);
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
