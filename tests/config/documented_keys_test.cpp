// The loader's key tables against the reference in docs/pipelines.md: a key
// the loader reads is documented, and a documented key has a reader (the
// stage keys are a table of readers, so a key cannot be accepted without one).

#include "config/pipeline_loader.hpp"
#include "config/spellings.hpp"

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

std::vector<std::string> strings(std::span<const std::string_view> keys) { return {keys.begin(), keys.end()}; }

}  // namespace

TEST_CASE("the top-level keys are the documented ones", "[config][docs]") {
  CHECK(strings(weir::config::top_level_keys()) == documented_keys("### Top level"));
}

TEST_CASE("the defaults keys are the documented ones", "[config][docs]") {
  CHECK(strings(weir::config::defaults_keys()) == documented_keys("### `defaults`"));
}

TEST_CASE("every stage key has a reader and every documented stage key is read", "[config][docs]") {
  CHECK(strings(weir::config::stage_keys()) == documented_keys("### A stage"));
}

TEST_CASE("an enum's spellings are what to_string prints", "[config]") {
  for (const auto& spelling : weir::config::kind_spellings) CHECK(weir::to_string(spelling.value) == spelling.text);
  for (const auto& spelling : weir::config::when_full_spellings) CHECK(weir::to_string(spelling.value) == spelling.text);
  for (const auto& spelling : weir::config::lane_policy_spellings)
    CHECK(weir::to_string(spelling.value) == spelling.text);
  CHECK(weir::config::spelling_of(static_cast<weir::WhenFull>(99)) == "?");
}
