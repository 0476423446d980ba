// The keys the loader reads against the reference in docs/pipelines.md. Each
// map's keys are a table of readers (a key without a reader is unknown), and
// an unknown key's hint lists the known ones: the list must be the documented
// one, in the documented order.

#include "config/spellings.hpp"
#include "test_plugins.hpp"

#include <weir/config.hpp>
#include <weir/spec.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

namespace {

// The first column of the table under `heading` in docs/pipelines.md.
std::vector<std::string> documented_keys(const std::string& heading) {
  std::ifstream in(WEIR_DOCS_DIR "/pipelines.md");
  REQUIRE(in);
  std::vector<std::string> keys;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("#")) {
      if (inside) break;
      inside = line == heading;
      continue;
    }
    if (!inside || !line.starts_with("| `")) continue;
    const std::size_t end = line.find('`', 3);
    if (end != std::string::npos) keys.push_back(line.substr(3, end - 3));
  }
  INFO("the table under " << heading);
  REQUIRE_FALSE(keys.empty());
  return keys;
}

// The known keys an unknown key's hint lists ("known keys: a, b or c"),
// loading `yaml`, which has one unknown key.
std::vector<std::string> known_keys(const std::string& yaml) {
  auto registry = weir::test::test_registry();
  try {
    weir::load_pipeline_string(yaml, registry);
  } catch (const weir::ConfigError& e) {
    for (const weir::Diagnostic& d : e.diagnostics()) {
      if (!d.message.starts_with("unknown key 'zzzzzzzz'")) continue;
      REQUIRE(d.hint.starts_with("known keys: "));
      std::string list = d.hint.substr(std::string("known keys: ").size());
      if (const std::size_t last = list.rfind(" or "); last != std::string::npos) list.replace(last, 4, ", ");
      std::vector<std::string> keys;
      for (std::size_t start = 0;;) {
        const std::size_t comma = list.find(", ", start);
        keys.push_back(list.substr(start, comma - start));
        if (comma == std::string::npos) break;
        start = comma + 2;
      }
      return keys;
    }
  }
  FAIL("no unknown-key diagnostic for:\n" << yaml);
  return {};
}

}  // namespace

TEST_CASE("the top-level keys read are the documented ones", "[config][docs]") {
  CHECK(known_keys("pipeline: p\nzzzzzzzz: 1\nstages: {a: {plugin: generate}}\n") ==
        documented_keys("### Top level"));
}

TEST_CASE("the defaults keys read are the documented ones", "[config][docs]") {
  CHECK(known_keys("pipeline: p\ndefaults: {zzzzzzzz: 1}\nstages: {a: {plugin: generate}}\n") ==
        documented_keys("### `defaults`"));
}

TEST_CASE("the stage keys read are the documented ones", "[config][docs]") {
  CHECK(known_keys("pipeline: p\nstages: {a: {plugin: generate, zzzzzzzz: 1}}\n") == documented_keys("### A stage"));
}

TEST_CASE("an enum's spellings are what to_string prints", "[config]") {
  for (const auto& spelling : weir::config::kind_spellings) CHECK(weir::to_string(spelling.value) == spelling.text);
  for (const auto& spelling : weir::config::when_full_spellings) CHECK(weir::to_string(spelling.value) == spelling.text);
  for (const auto& spelling : weir::config::lane_policy_spellings)
    CHECK(weir::to_string(spelling.value) == spelling.text);
  CHECK(weir::config::spelling_of(static_cast<weir::WhenFull>(99)) == "?");
}
