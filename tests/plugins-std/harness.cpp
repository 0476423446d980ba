#include "harness.hpp"

#include <weir/config.hpp>

#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>
#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

namespace weir::test {

weir::PluginRegistry& registry() {
  static weir::PluginRegistry loaded = [] {
    weir::PluginRegistry r;
    r.load_folders({WEIR_TEST_PLUGIN_DIR});
    for (const auto& problem : r.problems()) FAIL("plugin library did not load: " << problem.to_string());
    return r;
  }();
  return loaded;
}

const weir::PluginEntry& plugin(std::string_view name, weir::Kind kind) {
  const weir::PluginEntry* entry = registry().find(name, kind);
  if (!entry) FAIL("no " << weir::to_string(kind) << " plugin named " << name << " in " << WEIR_TEST_PLUGIN_DIR);
  return *entry;
}

weir::Options options_for(std::string_view name, weir::Kind kind, const std::string& config) {
  // The subject sits in the smallest graph the loader accepts: something
  // feeds it unless it is a source, something drains it unless it is a sink.
  std::string yaml = "pipeline: harness\nstages:\n";
  if (kind != weir::Kind::source) yaml += "  feed: {plugin: generate, config: {count: 1}}\n";
  yaml += fmt::format("  subject:\n    plugin: \"{}\"\n    kind: {}\n", name, weir::to_string(kind));
  if (kind != weir::Kind::source) yaml += "    input: feed\n";
  yaml += fmt::format("    config: {}\n", config.empty() ? std::string_view("{}") : std::string_view(config));
  if (kind != weir::Kind::sink) yaml += "  drain: {plugin: \"null\", input: subject}\n";
  weir::PipelineSpec spec = weir::load_pipeline_string(yaml, registry());
  return spec.stage("subject")->options;
}

weir::StageContext context_for(std::string_view plugin, unsigned replica, unsigned replicas, std::string stage) {
  weir::StageContext context;
  context.stage = std::move(stage);
  context.plugin = std::string(plugin);
  context.replica = replica;
  context.replicas = replicas;
  return context;
}

weir::StageInstance make_stage(std::string_view name, weir::Kind kind, const std::string& config, unsigned replica,
                               unsigned replicas) {
  return plugin(name, kind).create(options_for(name, kind, config), context_for(name, replica, replicas));
}

std::vector<std::string> Collector::payloads() const {
  std::vector<std::string> out;
  for (const auto& m : messages) out.push_back(m.payload);
  return out;
}

std::vector<weir::Message> process(weir::StageInstance& stage, weir::Message message) {
  Collector out;
  as<weir::Processor>(stage).process(message, out);
  return std::move(out.messages);
}

weir::Message message(std::string payload, weir::Attributes attributes, std::uint64_t id) {
  weir::Message m(std::move(payload));
  m.attributes = std::move(attributes);
  m.id = id;
  return m;
}

TempDir::TempDir() {
  static std::atomic<unsigned> counter{0};
  std::random_device entropy;
  path_ = std::filesystem::temp_directory_path() /
          fmt::format("weir-plugins-test-{}-{}-{}", ::getpid(), counter++, entropy());
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

CapturedStdout::CapturedStdout(std::filesystem::path file) : file_(std::move(file)) {
  std::fflush(stdout);
  saved_ = ::dup(1);
  int fd = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::dup2(fd, 1);
  ::close(fd);
}

CapturedStdout::~CapturedStdout() { restore(); }

std::string CapturedStdout::text() {
  restore();
  return read_file(file_);
}

void CapturedStdout::restore() {
  if (saved_ < 0) return;
  std::fflush(stdout);
  ::dup2(saved_, 1);
  ::close(saved_);
  saved_ = -1;
}

std::string pipeline_around_example(const weir::PluginEntry& entry, const TempDir& dir, int feed_count) {
  YAML::Node example = YAML::Load(std::string(entry.example()));
  REQUIRE(example.IsMap());
  REQUIRE(example.size() == 1);
  const std::string name = example.begin()->first.as<std::string>();
  YAML::Node stage = example.begin()->second;
  // Paths in examples are relative; keep test runs out of the source tree.
  if (stage["config"] && stage["config"]["path"])
    stage["config"]["path"] = (dir / stage["config"]["path"].as<std::string>()).string();
  if (stage["config"] && stage["config"]["checkpoint"])
    stage["config"]["checkpoint"] = (dir / stage["config"]["checkpoint"].as<std::string>()).string();
  // Examples listen on a fixed port; tests running at the same time each take a free one.
  if (stage["config"] && stage["config"]["address"]) {
    const std::string address = stage["config"]["address"].as<std::string>();
    stage["config"]["address"] = address.substr(0, address.rfind(':')) + ":0";
  }
  YAML::Node stages;
  stages[name] = stage;
  std::vector<std::string> inputs;
  if (stage["input"] && stage["input"].IsSequence())
    for (const auto& input : stage["input"]) inputs.push_back(input.as<std::string>());
  else if (stage["input"])
    inputs.push_back(stage["input"].as<std::string>());
  for (std::string input : inputs) {
    input = input.substr(0, input.find('.'));
    stages[input]["plugin"] = "generate";
    stages[input]["config"]["count"] = feed_count;
    stages[input]["config"]["payload"] = R"({"level": "error", "seq": {seq}})";
  }
  if (stage["on_error"] && stage["on_error"]["dead_letter"])
    stages[stage["on_error"]["dead_letter"].as<std::string>()]["plugin"] = "null";
  if (entry.kind() != weir::Kind::sink) {
    stages["example_consumer"]["plugin"] = "null";
    stages["example_consumer"]["input"] = name;
  }
  YAML::Node pipeline;
  pipeline["pipeline"] = "example";
  pipeline["stages"] = stages;
  YAML::Emitter out;
  out << pipeline;
  return out.c_str();
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void append_file(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::app);
  out << text;
}

std::string quoted(const std::filesystem::path& path) { return fmt::format("'{}'", path.string()); }

}  // namespace weir::test
