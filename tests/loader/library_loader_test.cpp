// Loading plugin libraries: every way a library can be broken gives one clear
// message naming the file and the reason, and a loaded library stays mapped
// for as long as a stage made from it exists.

#include <weir/registry.hpp>

#include <boost/dll/shared_library.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

const fs::path root = WEIR_TEST_PLUGIN_ROOT;

fs::path library(const char* folder, const char* target) {
  return root / folder / (std::string("libweir_") + target + ".so");
}

std::string load_error(const fs::path& file) {
  weir::PluginRegistry registry;
  try {
    registry.load_library(file);
  } catch (const weir::PluginError& e) {
    return e.what();
  }
  FAIL("loading " << file << " should have failed");
  return {};
}

class Collect final : public weir::Emitter {
 public:
  bool emit(weir::Message message) override {
    payloads.push_back(message.payload);
    return true;
  }
  std::vector<std::string> payloads;
};

bool is_mapped(const fs::path& file) {
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (!handle) return false;
  dlclose(handle);  // RTLD_NOLOAD still counts a reference
  return true;
}

}  // namespace

TEST_CASE("a library exporting several plugins adds them all", "[plugins][loader]") {
  weir::PluginRegistry registry;
  registry.load_library(library("good", "test_good"));
  REQUIRE(registry.all().size() == 3);
  const weir::PluginEntry& upper = registry.require("test_upper", weir::Kind::processor);
  CHECK(upper.description() == "Upper-cases payloads (test library)");
  CHECK(upper.options().size() == 2);
  CHECK(upper.library_file() == library("good", "test_good"));
  CHECK(registry.find("test_echo", weir::Kind::source));
  CHECK(registry.find("test_echo", weir::Kind::sink));
  CHECK(registry.find_all("test_echo").size() == 2);
  CHECK(registry.names(weir::Kind::processor) == std::vector<std::string>{"test_upper"});
}

TEST_CASE("each broken library gives one message naming the file and the reason", "[plugins][loader]") {
  SECTION("not found") {
    const fs::path file = root / "good" / "libweir_nothing_here.so";
    CHECK(load_error(file) == file.string() + ": not found: no such file");
  }
  SECTION("missing symbol") {
    const fs::path file = library("missing", "test_missing_symbol");
    const std::string message = load_error(file);
    CHECK_THAT(message, Contains(file.string() + ": missing symbol: "));
    CHECK_THAT(message, Contains("missing symbol: undefined symbol weir_test_function_nobody_defines() "
                                 "(_Z33weir_test_function_nobody_definesv)"));
  }
  SECTION("not a weir plugin: a library without descriptors") {
    const fs::path file = library("notplugin", "test_not_a_plugin");
    CHECK_THAT(load_error(file), Contains(file.string() + ": not a weir plugin: it exports no weir_plugin_* "
                                                          "descriptor"));
  }
  SECTION("not a weir plugin: not a shared library at all") {
    const fs::path file = library("garbage", "garbage");
    CHECK_THAT(load_error(file), Contains(file.string() + ": not a weir plugin: not a shared library"));
  }
  SECTION("ABI mismatch, with both versions") {
    const fs::path file = library("abi", "test_wrong_abi");
    CHECK(load_error(file) == file.string() +
                                  fmt::format(": ABI mismatch: weir_plugin_test_future was built against weir SDK ABI "
                                              "version {}, this weir ({}) has ABI version {}; rebuild the plugin "
                                              "against this weir",
                                              weir::sdk_abi_version + 1, WEIR_VERSION_STRING, weir::sdk_abi_version));
  }
  SECTION("two plugins of one kind with one name in one library") {
    const fs::path file = library("twice", "test_same_name_twice");
    CHECK(load_error(file) == file.string() + ": two processor plugins are named 'test_twice' in this one library");
  }
}

TEST_CASE("a library that fails adds none of its plugins", "[plugins][loader]") {
  weir::PluginRegistry registry;
  CHECK_THROWS_AS(registry.load_library(library("twice", "test_same_name_twice")), weir::PluginError);
  CHECK(registry.all().empty());
}

TEST_CASE("a constructor that throws is a PluginError naming plugin, library and message", "[plugins][loader]") {
  weir::PluginRegistry registry;
  const fs::path file = library("throwing", "test_throwing");
  registry.load_library(file);
  const weir::PluginEntry& entry = registry.require("test_throws", weir::Kind::sink);
  try {
    entry.create({}, weir::StageContext{.stage = "out", .plugin = "test_throws", .logger = nullptr, .stop = {}});
    FAIL("the constructor should have thrown");
  } catch (const weir::PluginError& e) {
    CHECK(std::string(e.what()) == "sink plugin 'test_throws' (" + file.string() +
                                       "): constructor threw: cannot open /nonexistent/target for writing");
  }
}

TEST_CASE("folders: problems are collected, not thrown, and every folder is remembered", "[plugins][loader]") {
  weir::PluginRegistry registry;
  registry.load_folders({root / "good", root / "no-such-folder", root / "missing", root / "abi", root / "notplugin",
                         root / "garbage", root / "throwing"});
  CHECK(registry.searched().size() == 7);
  CHECK(registry.searched()[1] == root / "no-such-folder");
  REQUIRE(registry.problems().size() == 4);
  CHECK(registry.problems()[0].file == library("missing", "test_missing_symbol").string());
  CHECK_THAT(registry.problems()[0].message, StartsWith("missing symbol: undefined symbol"));
  CHECK_THAT(registry.problems()[1].message, StartsWith("ABI mismatch"));
  CHECK_THAT(registry.problems()[2].message, StartsWith("not a weir plugin: it exports no"));
  CHECK(registry.problems()[3].file == library("garbage", "garbage").string());
  CHECK_THAT(registry.problems()[3].message, StartsWith("not a weir plugin: not a shared library"));
  // The healthy libraries among the broken ones are all there.
  CHECK(registry.find("test_upper", weir::Kind::processor));
  CHECK(registry.find("test_throws", weir::Kind::sink));
}

TEST_CASE("folders: the same folder twice is loaded once", "[plugins][loader]") {
  weir::PluginRegistry registry;
  registry.load_folders({root / "good", root / "good" / ".." / "good"});
  CHECK(registry.problems().empty());
  CHECK(registry.all().size() == 3);
  CHECK(registry.searched().size() == 1);
}

TEST_CASE("folders: loading in rounds skips folders and files already loaded", "[plugins][loader]") {
  weir::PluginRegistry registry;
  registry.load_folders({root / "good"});
  registry.load_folders({root / "good" / ".", root / "throwing"});
  registry.load_library(library("good", "test_good"));
  CHECK(registry.problems().empty());
  CHECK(registry.all().size() == 4);
  CHECK(registry.searched().size() == 2);
}

TEST_CASE("folders: two libraries in one folder with one name is an error naming both", "[plugins][loader]") {
  weir::PluginRegistry registry;
  registry.load_folders({root / "duplicates"});
  REQUIRE(registry.problems().size() == 1);
  CHECK(registry.problems()[0].file == library("duplicates", "test_duplicate_b").string());
  CHECK(registry.problems()[0].message ==
        "duplicate name: two processor plugins are named 'test_dup': one in " +
            library("duplicates", "test_duplicate_a").string() + ", one in " +
            library("duplicates", "test_duplicate_b").string());
  CHECK(registry.require("test_dup", weir::Kind::processor).description() == "Duplicate a (test library)");
}

TEST_CASE("folders: an earlier folder shadows a later one", "[plugins][loader]") {
  weir::PluginRegistry good_first;
  good_first.load_folders({root / "good", root / "shadow"});
  CHECK(good_first.problems().empty());
  CHECK(good_first.require("test_upper", weir::Kind::processor).description() ==
        "Upper-cases payloads (test library)");

  weir::PluginRegistry shadow_first;
  shadow_first.load_folders({root / "shadow", root / "good"});
  CHECK(shadow_first.problems().empty());
  CHECK(shadow_first.require("test_upper", weir::Kind::processor).description() == "Shadowing copy (test library)");
  // The rest of the shadowed library still counts.
  CHECK(shadow_first.find("test_echo", weir::Kind::source));
}

TEST_CASE("folders: a library named for its plugin is opened when the plugin is looked up", "[plugins][loader]") {
  const fs::path lazy = library("lazy", "processor_test_lazy");
  const fs::path unused = library("lazy", "processor_test_unused");
  {
    weir::PluginRegistry registry;
    registry.load_folders({root / "lazy", root / "good"});
    CHECK(registry.has_plugins());
    CHECK_FALSE(is_mapped(lazy));
    CHECK_FALSE(is_mapped(unused));
    CHECK(registry.find("test_upper", weir::Kind::processor));  // from a library opened at once
    CHECK_FALSE(is_mapped(lazy));
    REQUIRE(registry.find("test_lazy", weir::Kind::processor));
    CHECK(is_mapped(lazy));
    CHECK_FALSE(is_mapped(unused));
    // Listing answers as if every library had been opened.
    const auto names = registry.names();
    CHECK(std::find(names.begin(), names.end(), "test_unused") != names.end());
    CHECK(is_mapped(unused));
  }
  CHECK_FALSE(is_mapped(lazy));
  CHECK_FALSE(is_mapped(unused));
}

TEST_CASE("folders: the search order holds between libraries opened at once and when looked up", "[plugins][loader]") {
  // lazy-copy's library is opened by load_folders, lazy's only by the lookup;
  // the earlier folder still wins either way round.
  weir::PluginRegistry lazy_first;
  lazy_first.load_folders({root / "lazy", root / "lazy-copy"});
  CHECK(lazy_first.require("test_lazy", weir::Kind::processor).description() == "Opened when looked up (test library)");
  CHECK(lazy_first.problems().empty());

  weir::PluginRegistry copy_first;
  copy_first.load_folders({root / "lazy-copy", root / "lazy"});
  CHECK(copy_first.require("test_lazy", weir::Kind::processor).description() ==
        "Copy under another file name (test library)");
  CHECK(copy_first.problems().empty());
}

TEST_CASE("not found names the folders searched and a close name", "[plugins][loader]") {
  weir::PluginRegistry registry;
  registry.load_folders({root / "good", root / "nowhere"});
  try {
    (void)registry.require("test_uper", weir::Kind::processor);
    FAIL("require should have thrown");
  } catch (const weir::PluginError& e) {
    CHECK(std::string(e.what()) == "no processor plugin named 'test_uper' (did you mean 'test_upper'?); searched: " +
                                       (root / "good").string() + ", " + (root / "nowhere").string());
  }
  CHECK_THAT(registry.not_found_message("test_echo", weir::Kind::processor),
             Contains("'test_echo' exists as a source and sink plugin"));
}

TEST_CASE("a library stays loaded until the last stage made from it is gone", "[plugins][loader]") {
  const fs::path file = library("good", "test_good");
  REQUIRE_FALSE(is_mapped(file));
  weir::StageInstance instance;
  {
    weir::PluginRegistry registry;
    registry.load_library(file);
    weir::Options options({{"suffix", weir::Value::of_string("!")}, {"limit", weir::Value::of_integer(10)}});
    instance = registry.require("test_upper", weir::Kind::processor).create(options, {});
    CHECK(is_mapped(file));
  }
  // The registry is gone; the stage's code must still be there.
  CHECK(is_mapped(file));
  auto* processor = dynamic_cast<weir::Processor*>(instance.stage.get());
  REQUIRE(processor);
  Collect out;
  weir::Message message("quiet");
  processor->process(message, out);
  CHECK(out.payloads == std::vector<std::string>{"QUIET!"});

  instance = weir::StageInstance{};
  CHECK_FALSE(is_mapped(file));
}

TEST_CASE("the default search path: WEIR_PLUGIN_PATH first, then the built-in folder", "[plugins][loader]") {
  ::setenv("WEIR_PLUGIN_PATH", "/first:/second::/third", 1);
  const auto path = weir::PluginRegistry::default_search_path();
  ::unsetenv("WEIR_PLUGIN_PATH");
  REQUIRE(path.size() == 4);
  CHECK(path[0] == "/first");
  CHECK(path[1] == "/second");
  CHECK(path[2] == "/third");
  CHECK(path[3].string().ends_with("lib/weir/plugins"));
}
