// Conditions at run time: matching allocates nothing (counted by replacing the
// global operator new in this binary), one parsed condition is shared by many
// threads, and no input makes the parser fail other than with a column inside
// the text.

#include <weir/condition.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <thread>
#include <vector>

namespace {
std::atomic<std::size_t> allocations{0};
}

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using weir::Condition;
using weir::Message;

TEST_CASE("matching allocates nothing", "[config][condition]") {
  Message m("payload with panic inside");
  m.attributes.set("kind", "report_generate");
  m.attributes.set("size", "1234.5");
  m.attributes.set("user", "bob");
  m.priority = 9;
  m.id = 123456789;
  const char* expressions[] = {
      R"(kind == "report_generate" && priority >= 5)",
      R"(size > 1000 || id < 10)",
      R"(kind in ["email_send", "image_resize", "report_generate"])",
      R"(payload contains "panic" && !exists(missing))",
      R"(id == "123456789" && priority != "8")",
      R"(missing != "x" && !(user == "alice"))",
      R"(size)",
  };
  for (const char* text : expressions) {
    INFO(text);
    const std::size_t before_parse = allocations.load();
    const Condition condition = Condition::parse(text);
    CHECK(allocations.load() > before_parse);  // the counter does count
    const std::size_t before = allocations.load();
    bool all = true;
    for (int i = 0; i < 1000; ++i) all = condition.matches(m) && all;
    CHECK(allocations.load() == before);
    CHECK(all);
  }
}

TEST_CASE("one condition evaluated by many threads at once", "[config][condition][tsan]") {
  const Condition condition = Condition::parse(R"(kind matches "^rep" && priority > 2 || payload contains "x")");
  constexpr int threads = 4;
  constexpr int per_thread = 2000;
  std::atomic<int> matched{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      Message m("abc");
      m.attributes.set("kind", t % 2 ? "report" : "email");
      for (int i = 0; i < per_thread; ++i) {
        m.priority = i % 5;
        if (condition.matches(m)) matched.fetch_add(1, std::memory_order_relaxed);
      }
    });
  for (auto& w : workers) w.join();
  // Two threads have kind "report"; priorities 3 and 4 are 2 of every 5.
  CHECK(matched.load() == 2 * per_thread * 2 / 5);
}

TEST_CASE("random token soup parses or fails with a column inside the text", "[config][condition]") {
  const char* pieces[] = {"kind", "payload", "priority", " ", "==", "!=", "<", ">=", "&&", "||", "!", "(", ")",
                          "[", "]", ",", "in", "contains", "matches", "exists", "\"a\"", "'b'", "\"(\"", "5",
                          "-2.5", "true", "=", "&", "\"", "x.y-z"};
  std::mt19937 random(12345);
  std::uniform_int_distribution<std::size_t> pick(0, std::size(pieces) - 1);
  std::uniform_int_distribution<int> length(0, 9);
  int parsed = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string text;
    for (int n = length(random); n > 0; --n) text += pieces[pick(random)];
    INFO(text);
    try {
      const Condition condition = Condition::parse(text);
      (void)condition.matches(Message("x"));
      ++parsed;
    } catch (const weir::ConditionError& e) {
      CHECK(e.column() >= 1);
      CHECK(e.column() <= static_cast<int>(text.size()) + 1);
    }
  }
  CHECK(parsed > 0);
}
