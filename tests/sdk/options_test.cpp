#include <weir/condition.hpp>
#include <weir/options.hpp>
#include <weir/template.hpp>

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
  auto list = weir::Value::of_list({weir::Value::of_integer(1), weir::Value::of_string("a")});
  CHECK(list.to_text() == "[1, a]");
  CHECK_THROWS_AS(list.as_integer(), std::logic_error);
  auto map = weir::Value::of_map({{"k", weir::Value::of_bool(true)}});
  REQUIRE(map.find("k"));
  CHECK(map.find("k")->as_bool());
  CHECK(map.find("x") == nullptr);
  CHECK(weir::Value::of_integer(3).as_number() == 3.0);
}

TEST_CASE("options give untyped access and name a missing option", "[sdk]") {
  weir::Options options({{"count", weir::Value::of_integer(5)}, {"name", weir::Value::of_string("x")}});
  CHECK(options.at("count").as_integer() == 5);
  CHECK(options.at("name").as_string() == "x");
  CHECK_FALSE(options.has("rate"));
  CHECK_THROWS_WITH(options.at("rate").as_integer(), Catch::Contains("rate"));
}

namespace {

enum class Mode { sleep, cpu };

const weir::Option<std::int64_t> count{.name = "count", .description = "how many", .default_value = "1"};
const weir::Option<Mode> mode{.name = "mode",
                              .description = "how",
                              .default_value = "sleep",
                              .choices = {{"sleep", Mode::sleep}, {"cpu", Mode::cpu}}};
const weir::Option<weir::Size> size{.name = "size", .description = "how big"};
const weir::Option<weir::Named<weir::Value::Duration>> per_kind{.name = "per_kind", .description = "time per kind"};
const weir::Option<weir::Condition> when{.name = "when", .description = "which"};
const weir::Option<weir::Template> text{.name = "text", .description = "what"};
const weir::OptionTable table{count, mode, size, per_kind, when, text};

weir::Options declared(std::map<std::string, weir::Value, std::less<>> values) {
  return weir::Options(std::move(values), &table, "demo");
}

}  // namespace

TEST_CASE("a handle's C++ type decides the option's kind, and the table lists them in order", "[sdk]") {
  const auto specs = table.specs();
  REQUIRE(specs.size() == 6);
  CHECK(specs[0].type == weir::OptionType::integer);
  CHECK(specs[1].type == weir::OptionType::enumeration);
  CHECK(specs[1].allowed == std::vector<std::string_view>{"sleep", "cpu"});
  CHECK(specs[2].type == weir::OptionType::size);
  CHECK(specs[3].type == weir::OptionType::map);
  CHECK(specs[3].element == weir::OptionType::duration);
  CHECK(specs[4].type == weir::OptionType::condition);
  CHECK(specs[5].type == weir::OptionType::message_template);
}

TEST_CASE("options are read through their handles, typed", "[sdk]") {
  const auto options = declared({{"count", weir::Value::of_integer(7)},
                                 {"mode", weir::Value::of_string("cpu")},
                                 {"size", weir::Value::of_integer(65536)},
                                 {"per_kind", weir::Value::of_map({{"a", weir::Value::of_duration(5ms)}})},
                                 {"when", weir::Value::of_string("level == \"error\"")},
                                 {"text", weir::Value::of_string("{level}: {payload}")}});
  CHECK(options[count] == 7);
  CHECK(options[mode] == Mode::cpu);
  CHECK(options[size] == weir::Size{65536});
  CHECK(options[per_kind] == weir::Named<weir::Value::Duration>{{"a", 5ms}});
  weir::Message message("boom");
  message.attributes.set("level", "error");
  CHECK(options[when].matches(message));
  CHECK(options[text].render(message) == "error: boom");
}

TEST_CASE("misusing the options API names the plugin and the option", "[sdk]") {
  const auto options = declared({{"count", weir::Value::of_integer(7)}});
  const weir::Option<std::int64_t> undeclared{.name = "cuont", .description = "a typo"};
  CHECK_THROWS_WITH(options[undeclared], Catch::Contains("plugin 'demo'") && Catch::Contains("'cuont'") &&
                                             Catch::Contains("does not declare"));
  const weir::Option<std::string> wrong_type{.name = "count", .description = "the wrong type"};
  CHECK_THROWS_WITH(options[wrong_type], Catch::Contains("plugin 'demo'") && Catch::Contains("'count'") &&
                                             Catch::Contains("as a string") && Catch::Contains("as a integer"));
  CHECK_THROWS_WITH(options[size], Catch::Contains("plugin 'demo'") && Catch::Contains("'size'") &&
                                       Catch::Contains("no value"));
  CHECK_FALSE(options.get(size));
  CHECK(options.get(count) == 7);
}

TEST_CASE("a condition or template built in code that does not parse is an OptionError with its column", "[sdk]") {
  const auto options = declared({{"when", weir::Value::of_string("level = 1")}, {"text", weir::Value::of_string("{a b}")}});
  try {
    (void)options[when];
    FAIL("accepted");
  } catch (const weir::OptionError& e) {
    CHECK(e.option() == "when");
    CHECK(e.column() == 7);
  }
  try {
    (void)options[text];
    FAIL("accepted");
  } catch (const weir::OptionError& e) {
    CHECK(e.option() == "text");
    CHECK(e.column() == 3);
  }
}

TEST_CASE("sizes parse with binary units and format back", "[sdk]") {
  CHECK(weir::parse_size("512") == weir::Size{512});
  CHECK(weir::parse_size("512B") == weir::Size{512});
  CHECK(weir::parse_size("64KiB") == weir::Size{65536});
  CHECK(weir::parse_size("16MiB") == weir::Size{16u << 20});
  CHECK_FALSE(weir::parse_size("64KB"));
  CHECK_FALSE(weir::parse_size("KiB"));
  CHECK_FALSE(weir::parse_size("-1"));
  CHECK_FALSE(weir::parse_size("99999999999TiB"));
  CHECK(weir::format_size(weir::Size{65536}) == "64KiB");
  CHECK(weir::format_size(weir::Size{1000}) == "1000");
}

TEST_CASE("reject_option carries the option, the problem, the hint and the column", "[sdk]") {
  try {
    weir::reject_option("templates[1].weight", "'-1' is not a positive number", "a number above 0", 2);
  } catch (const weir::OptionError& e) {
    CHECK(e.option() == "templates[1].weight");
    CHECK(e.column() == 2);
    CHECK(std::string(e.what()) ==
          "option 'templates[1].weight': '-1' is not a positive number (a number above 0)");
  }
}
