#include <weir/options.hpp>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;

TEST_CASE("durations parse in every unit the YAML allows", "[sdk]") {
  CHECK(weir::parse_duration("250ms") == 250ms);
  CHECK(weir::parse_duration("30s") == 30s);
  CHECK(weir::parse_duration("2m") == 2min);
  CHECK(weir::parse_duration("1h") == 1h);
  CHECK(weir::parse_duration("10us") == 10us);
  CHECK(weir::parse_duration("1.5s") == 1500ms);
  CHECK_FALSE(weir::parse_duration("30"));
  CHECK_FALSE(weir::parse_duration("ms"));
  CHECK_FALSE(weir::parse_duration("3 parsecs"));
}

TEST_CASE("durations format back to the shortest exact unit", "[sdk]") {
  CHECK(weir::format_duration(250ms) == "250ms");
  CHECK(weir::format_duration(30s) == "30s");
  CHECK(weir::format_duration(2min) == "2m");
  CHECK(weir::format_duration(1500us) == "1500us");
}

TEST_CASE("typed values refuse the wrong type and render as YAML flow text", "[sdk]") {
  auto list = weir::Value::of_list({weir::Value::of_int(1), weir::Value::of_string("a")});
  CHECK(list.to_text() == "[1, a]");
  CHECK_THROWS_AS(list.as_int(), std::logic_error);
  auto map = weir::Value::of_map({{"k", weir::Value::of_bool(true)}});
  REQUIRE(map.find("k"));
  CHECK(map.find("k")->as_bool());
  CHECK(map.find("x") == nullptr);
  CHECK(weir::Value::of_int(3).as_number() == 3.0);
}

TEST_CASE("options give typed access and name a missing option", "[sdk]") {
  weir::Options options({{"count", weir::Value::of_int(5)}, {"name", weir::Value::of_string("x")}});
  CHECK(options.integer("count") == 5);
  CHECK(options.string("name") == "x");
  CHECK_FALSE(options.has("rate"));
  CHECK_THROWS_WITH(options.integer("rate"), Catch::Contains("rate"));
}
