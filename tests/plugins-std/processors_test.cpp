// The standard processors, each driven directly with messages.

#include "harness.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace weir::test;
using weir::Kind;

TEST_CASE("simulate_work: emits every message, whatever its kind", "[plugins][simulate_work]") {
  for (const char* mode : {"sleep", "cpu"}) {
    auto stage = make_stage("simulate_work", Kind::processor,
                            std::string("{mode: ") + mode + ", durations: {fast: 0ms, slow: 1ms}, default_duration: 0ms}");
    for (const char* kind : {"fast", "slow", "unknown"}) {
      auto out = process(stage, message("job", {{"kind", kind}}));
      REQUIRE(out.size() == 1);
      CHECK(out[0].payload == "job");
    }
    CHECK(process(stage, message("no kind")).size() == 1);
  }
}

TEST_CASE("simulate_work: the seed's defaults know the three job kinds", "[plugins][simulate_work]") {
  auto options = options_for("simulate_work", Kind::processor, "{}");
  const auto& durations = options.at("durations").as_map();
  REQUIRE(durations.size() == 3);
  CHECK(durations[0].first == "email_send");
  CHECK(durations[2].second.as_duration() == std::chrono::milliseconds(20));
}

TEST_CASE("filter: keeps or drops by condition", "[plugins][filter]") {
  auto keep = make_stage("filter", Kind::processor, R"({when: 'level == "error" || payload contains "panic"'})");
  CHECK(process(keep, message("x", {{"level", "error"}})).size() == 1);
  CHECK(process(keep, message("kernel panic")).size() == 1);
  CHECK(process(keep, message("fine", {{"level", "info"}})).empty());
  auto drop = make_stage("filter", Kind::processor, R"({when: 'level == "debug"', action: drop})");
  CHECK(process(drop, message("x", {{"level", "debug"}})).empty());
  CHECK(process(drop, message("x", {{"level", "info"}})).size() == 1);
}

TEST_CASE("filter: a malformed condition names the option, at the column of the mistake", "[plugins][filter]") {
  CHECK_THROWS_WITH(make_stage("filter", Kind::processor, R"({when: 'level == '})"),
                    Catch::Contains("<string>:8:30: error: stage 'subject': option 'when': expected a value after '=='"));
}

TEST_CASE("set: adds, replaces and removes attributes from templates", "[plugins][set]") {
  auto stage = make_stage("set", Kind::processor,
                          "{attributes: {service: checkout, summary: '{level}: {payload}', level: '{attr:level}!', "
                          "braces: '{{x}}'}, remove: [token], priority: 7}");
  auto out = process(stage, message("disk full", {{"level", "error"}, {"token", "secret"}}));
  REQUIRE(out.size() == 1);
  const auto& a = out[0].attributes;
  CHECK(a.get("service") == "checkout");
  CHECK(a.get("summary") == "error: disk full");  // reads the message as it arrived
  CHECK(a.get("level") == "error!");
  CHECK(a.get("braces") == "{x}");
  CHECK_FALSE(a.contains("token"));
  CHECK(out[0].priority == 7);
}

TEST_CASE("set: rewrites the payload, a missing attribute renders empty", "[plugins][set]") {
  auto stage = make_stage("set", Kind::processor, "{payload: '[{level}] {payload} #{id} p{priority}'}");
  auto out = process(stage, message("hello", {}, 12));
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == "[] hello #12 p0");
  CHECK_THROWS_WITH(make_stage("set", Kind::processor, "{}"), Catch::Contains("nothing to do"));
}

TEST_CASE("json: parses all fields or chosen ones into attributes", "[plugins][json]") {
  auto all = make_stage("json", Kind::processor, "{}");
  auto out = process(all, message(R"({"level":"warn","code":42,"ok":true,"tags":["a"],"gone":null})"));
  REQUIRE(out.size() == 1);
  CHECK(out[0].attributes.get("level") == "warn");
  CHECK(out[0].attributes.get("code") == "42");
  CHECK(out[0].attributes.get("ok") == "true");
  CHECK(out[0].attributes.get("tags") == R"(["a"])");
  CHECK_FALSE(out[0].attributes.contains("gone"));

  auto chosen = make_stage("json", Kind::processor, "{fields: [level, message], prefix: j_, payload_from: message}");
  out = process(chosen, message(R"({"level":"error","message":"boom","user":"x"})"));
  REQUIRE(out.size() == 1);
  CHECK(out[0].attributes.get("j_level") == "error");
  CHECK_FALSE(out[0].attributes.contains("j_user"));
  CHECK(out[0].payload == "boom");
}

TEST_CASE("json: render writes values that are not UTF-8 as NAME_base64, and parse reads them back",
          "[plugins][json]") {
  auto render = make_stage("json", Kind::processor, "{mode: render}");
  const std::string bytes("\xff\x00\xc3(", 4);
  auto out = process(render, message(bytes, {{"user", "ann"}, {"raw", "\xe9t\xe9"}}));
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == R"({"user":"ann","raw_base64":"6XTp","payload_base64":"/wDDKA=="})");
  auto parse = make_stage("json", Kind::processor, "{payload_from: payload}");
  auto back = process(parse, out[0]);
  REQUIRE(back.size() == 1);
  CHECK(back[0].payload == bytes);
  CHECK(back[0].attributes.get("raw") == "\xe9t\xe9");
  CHECK_FALSE(back[0].attributes.contains("raw_base64"));
  // A field that merely ends in _base64 but holds no base64 stays as it is.
  back = process(parse, message(R"({"note_base64": "not base64!"})"));
  REQUIRE(back.size() == 1);
  CHECK(back[0].attributes.get("note_base64") == "not base64!");
}

TEST_CASE("json: invalid payloads fail, filter or pass as configured", "[plugins][json]") {
  auto fail = make_stage("json", Kind::processor, "{}");
  CHECK_THROWS_AS(process(fail, message("not json")), weir::PermanentError);
  CHECK_THROWS_AS(process(fail, message("[1, 2]")), weir::PermanentError);
  auto filter = make_stage("json", Kind::processor, "{on_invalid: filter}");
  CHECK(process(filter, message("{broken")).empty());
  auto pass = make_stage("json", Kind::processor, "{on_invalid: pass}");
  auto out = process(pass, message("{broken"));
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == "{broken");
}

TEST_CASE("json: renders attributes and payload, and parses its own output back", "[plugins][json]") {
  auto render = make_stage("json", Kind::processor, "{mode: render}");
  auto out = process(render, message("say \"hi\"", {{"kind", "email_send"}, {"user", "ann"}}));
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == R"({"kind":"email_send","user":"ann","payload":"say \"hi\""})");
  auto parse = make_stage("json", Kind::processor, "{payload_from: payload}");
  auto back = process(parse, out[0]);
  REQUIRE(back.size() == 1);
  CHECK(back[0].payload == "say \"hi\"");
  CHECK(back[0].attributes.get("user") == "ann");

  auto chosen = make_stage("json", Kind::processor, "{mode: render, fields: [user], payload_field: ''}");
  CHECK(process(chosen, message("x", {{"kind", "k"}, {"user", "u"}}))[0].payload == R"({"user":"u"})");
}

TEST_CASE("regex: named groups in both syntaxes become attributes", "[plugins][regex]") {
  auto stage = make_stage("regex", Kind::processor,
                          R"({pattern: '^(?P<time>\S+) (?<level>[a-z]+) (?:\[(?P<module>[^\]]+)\] )?(?P<message>.*)$'})");
  auto out = process(stage, message("12:00 error [db] connection lost"));
  REQUIRE(out.size() == 1);
  CHECK(out[0].attributes.get("time") == "12:00");
  CHECK(out[0].attributes.get("level") == "error");
  CHECK(out[0].attributes.get("module") == "db");
  CHECK(out[0].attributes.get("message") == "connection lost");

  out = process(stage, message("12:01 info started"));
  REQUIRE(out.size() == 1);
  CHECK_FALSE(out[0].attributes.contains("module"));  // an optional group that did not take part
  CHECK(out[0].attributes.get("message") == "started");
}

TEST_CASE("regex: RE2 syntax, backreferences and lookaround are rejected at their column", "[plugins][regex]") {
  auto stage = make_stage("regex", Kind::processor, R"({pattern: '(?P<word>[a-z]+) [(](?<n>\d+)[)]', mode: match})");
  auto out = process(stage, message("bye (3)"));
  REQUIRE(out.size() == 1);
  CHECK(out[0].attributes.get("word") == "bye");
  CHECK(out[0].attributes.get("n") == "3");
  CHECK_THROWS_WITH(make_stage("regex", Kind::processor, R"({pattern: '(?P<word>[a-z]+) (?P=word)'})"),
                    Catch::Contains(":8:41: error: stage 'subject': option 'pattern': '") && Catch::Contains("backreferences"));
  CHECK_THROWS_WITH(make_stage("regex", Kind::processor, R"({pattern: '(?<n>\d+) \k<n>'})"),
                    Catch::Contains(":8:34: error: stage 'subject': option 'pattern': '") && Catch::Contains("backreferences"));
  CHECK_THROWS_WITH(make_stage("regex", Kind::processor, R"({pattern: 'a(?<=b)'})"),
                    Catch::Contains(":8:25: error: stage 'subject': option 'pattern': '") && Catch::Contains("lookbehind"));
}

TEST_CASE("regex: no match filters, fails or passes, an attribute can be the text", "[plugins][regex]") {
  auto filter = make_stage("regex", Kind::processor, "{pattern: '(?P<n>\\d+)'}");
  CHECK(process(filter, message("no digits")).empty());
  auto fail = make_stage("regex", Kind::processor, "{pattern: '(?P<n>\\d+)', on_mismatch: fail}");
  CHECK_THROWS_AS(process(fail, message("no digits")), weir::PermanentError);
  auto pass = make_stage("regex", Kind::processor, "{pattern: '(?P<n>\\d+)', on_mismatch: pass}");
  CHECK(process(pass, message("no digits")).size() == 1);
  auto attribute = make_stage("regex", Kind::processor,
                              "{pattern: '(?P<user>\\w+)@(?P<host>\\S+)', attribute: from, prefix: from_, ignore_case: true}");
  auto out = process(attribute, message("x", {{"from", "Ann@Example.org"}}));
  REQUIRE(out.size() == 1);
  CHECK(out[0].attributes.get("from_user") == "Ann");
  CHECK(out[0].attributes.get("from_host") == "Example.org");
  CHECK(process(attribute, message("ann@example.org")).empty());  // attribute missing
}

TEST_CASE("regex: an invalid pattern is rejected naming the option", "[plugins][regex]") {
  for (const char* pattern : {"'(?P<level>[a-z]+'", "'(?P<a>x)(?P<a>y)'", "'(?P=nope)'", "'[z-a]'", "'a{2000}'", "'a**+'"})
    CHECK_THROWS_WITH(make_stage("regex", Kind::processor, std::string("{pattern: ") + pattern + "}"),
                      Catch::Contains("option 'pattern'"));
}

TEST_CASE("sample: keeps every Nth, or 1 in N at random repeatably", "[plugins][sample]") {
  auto every = make_stage("sample", Kind::processor, "{every: 3}");
  std::vector<int> kept;
  for (int i = 0; i < 10; ++i)
    if (!process(every, message(std::to_string(i))).empty()) kept.push_back(i);
  CHECK(kept == std::vector<int>{0, 3, 6, 9});

  auto count_kept = [](weir::StageInstance& stage) {
    int n = 0;
    for (int i = 0; i < 4000; ++i) n += static_cast<int>(process(stage, message("m")).size());
    return n;
  };
  auto a = make_stage("sample", Kind::processor, "{every: 4, random: true, seed: 9}");
  auto b = make_stage("sample", Kind::processor, "{every: 4, random: true, seed: 9}");
  int kept_a = count_kept(a);
  CHECK(kept_a == count_kept(b));
  CHECK(kept_a > 800);
  CHECK(kept_a < 1200);
}

TEST_CASE("throttle: holds a message until its slot, shared by the stage's replicas", "[plugins][throttle]") {
  // One message per 1000 s: the burst passes at once, the next one waits.
  // Only stop() may release it, so the checks below do not depend on timing.
  auto first = make_stage("throttle", Kind::processor, "{rate: 0.001, burst: 2}", 0, 2);
  auto second = make_stage("throttle", Kind::processor, "{rate: 0.001, burst: 2}", 1, 2);
  CHECK(process(first, message("a")).size() == 1);
  CHECK(process(second, message("b")).size() == 1);
  std::atomic<bool> emitted{false};
  std::jthread waiter([&] {
    Collector out;
    weir::Message m = message("c");
    as<weir::Processor>(second).process(m, out);
    emitted = out.messages.size() == 1;
  });
  CHECK_FALSE(emitted.load());
  as<weir::Processor>(second).stop();  // a stop ends the wait; the message still goes on
  waiter.join();
  CHECK(emitted.load());
}

TEST_CASE("dedupe: drops repeats of a key within the window, bounded", "[plugins][dedupe]") {
  auto stage = make_stage("dedupe", Kind::processor, "{key: '{user}', window: 1h, max_keys: 2}");
  CHECK(process(stage, message("1", {{"user", "a"}})).size() == 1);
  CHECK(process(stage, message("2", {{"user", "a"}})).empty());
  CHECK(process(stage, message("3", {{"user", "b"}})).size() == 1);
  CHECK(process(stage, message("4", {{"user", "c"}})).size() == 1);  // forgets a (max_keys)
  CHECK(process(stage, message("5", {{"user", "a"}})).size() == 1);
  CHECK(process(stage, message("6", {{"user", "c"}})).empty());

  auto no_window = make_stage("dedupe", Kind::processor, "{window: 0s}");
  CHECK(process(no_window, message("same")).size() == 1);
  CHECK(process(no_window, message("same")).size() == 1);
}

TEST_CASE("dedupe: replicas share one window", "[plugins][dedupe]") {
  auto a = make_stage("dedupe", Kind::processor, "{}", 0, 2);
  auto b = make_stage("dedupe", Kind::processor, "{}", 1, 2);
  std::atomic<int> passed{0};
  auto feed = [&](weir::StageInstance& stage) {
    for (int i = 0; i < 500; ++i) passed += static_cast<int>(process(stage, message(std::to_string(i))).size());
  };
  std::jthread one([&] { feed(a); });
  std::jthread two([&] { feed(b); });
  one.join();
  two.join();
  CHECK(passed == 500);
}

TEST_CASE("fail: fails the chosen share, deterministically, of the chosen kind", "[plugins][fail]") {
  auto none = make_stage("fail", Kind::processor, "{share: 0}");
  CHECK(process(none, message("x")).size() == 1);
  auto all = make_stage("fail", Kind::processor, "{share: 1}");
  CHECK_THROWS_AS(process(all, message("x")), weir::PermanentError);
  auto retryable = make_stage("fail", Kind::processor, "{share: 1, error: retryable}");
  CHECK_THROWS_AS(process(retryable, message("x")), weir::RetryableError);

  auto half = make_stage("fail", Kind::processor, "{share: 0.5, seed: 3}");
  auto again = make_stage("fail", Kind::processor, "{share: 0.5, seed: 3}");
  int failures = 0;
  for (std::uint64_t id = 1; id <= 1000; ++id) {
    bool failed_once = false, failed_again = false;
    try { process(half, message("m", {}, id)); } catch (const weir::PermanentError&) { failed_once = true; }
    try { process(again, message("m", {}, id)); } catch (const weir::PermanentError&) { failed_again = true; }
    REQUIRE(failed_once == failed_again);
    failures += failed_once;
  }
  CHECK(failures > 400);
  CHECK(failures < 600);
}

TEST_CASE("fail: `times` lets a chosen message succeed after that many failures", "[plugins][fail]") {
  auto stage = make_stage("fail", Kind::processor, "{share: 1, times: 2, error: retryable}");
  weir::Message m = message("retry me", {}, 5);
  CHECK_THROWS_AS(process(stage, m), weir::RetryableError);
  CHECK_THROWS_AS(process(stage, m), weir::RetryableError);
  CHECK(process(stage, m).size() == 1);
}

TEST_CASE("regex: a text over max_length, when set, does not match", "[plugins][regex]") {
  auto stage = make_stage("regex", Kind::processor, "{pattern: '^(?P<all>.*)$', max_length: 1000, on_mismatch: fail}");
  CHECK(process(stage, message(std::string(1000, 'x'))).size() == 1);
  CHECK_THROWS_WITH(process(stage, message(std::string(1001, 'x'))), Catch::Contains("max_length"));
}

// std::regex recursed per character (a crash past some 100 KB) and
// backtracked exponentially; the stage cut texts at 16 KiB to survive.
TEST_CASE("regex: long texts and backtracking patterns match in linear time, with no length cut-off",
          "[plugins][regex]") {
  auto whole = make_stage("regex", Kind::processor, "{pattern: '^(?P<head>a{3})(?P<rest>(a|b)*)c$', on_mismatch: fail}");
  auto out = process(whole, message(std::string(4 << 20, 'a') + "c"));
  REQUIRE(out.size() == 1);
  CHECK(out[0].attributes.get("head") == "aaa");
  CHECK(out[0].attributes.get("rest").size() == (4u << 20) - 3);
  auto nested = make_stage("regex", Kind::processor, "{pattern: '^(?P<run>(a+)+)$', on_mismatch: fail}");
  CHECK_THROWS_WITH(process(nested, message(std::string(60, 'a') + "!")), Catch::Contains("does not match"));
  CHECK(process(nested, message(std::string(60, 'a'))).size() == 1);
}

// A line of 90,000 '[' crashed the json processor (a recursive walk of the
// parsed value overflowed the stack).
TEST_CASE("json: nesting deeper than the limit fails the message, naming the byte", "[plugins][json]") {
  auto stage = make_stage("json", Kind::processor, "{}");
  const std::size_t limit = 128;
  const std::string deep_array = std::string(90'000, '[') + std::string(90'000, ']');
  CHECK_THROWS_WITH(process(stage, message(deep_array)),
                    Catch::Contains("deeper than 128 levels") && Catch::Contains("at byte 129"));
  const std::string deep_object = "{\"a\": " + [&] {
    std::string text;
    for (std::size_t i = 0; i < 100'000; ++i) text += "{\"[\":";
    return text;
  }();
  CHECK_THROWS_WITH(process(stage, message(deep_object)), Catch::Contains("deeper than 128 levels"));
  // Exactly at the limit is fine; brackets inside strings do not count.
  const std::string at_limit =
      "{\"x\": \"[[[[\\\"{{\", \"a\": " + std::string(limit - 1, '[') + std::string(limit - 1, ']') + "}";
  auto out = process(stage, message(at_limit));
  REQUIRE(out.size() == 1);
  CHECK(out[0].attributes.get("x") == "[[[[\"{{");
  CHECK_THROWS_WITH(process(stage, message("{\"a\": 1,}")), Catch::Contains("not valid JSON (at byte 9)"));
  // Found by fuzz_json: a number too large for a double threw out_of_range,
  // which escaped on_invalid.
  CHECK_THROWS_WITH(process(stage, message(R"({"n": 1e999})")),
                    Catch::Equals("payload is not usable JSON: number overflow parsing '1e999'"));
  auto filter = make_stage("json", Kind::processor, "{on_invalid: filter}");
  CHECK(process(filter, message(R"({"n": 1e999})")).empty());
}
