#pragma once
// Drives the standard plugins directly: load them from the build's plugin
// folder, give them options validated by the real config loader, and collect
// what they emit.

#include <weir/plugin.hpp>
#include <weir/registry.hpp>

#include <filesystem>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

namespace weir::test {

// Every library of the build's plugin folder, loaded once.
weir::PluginRegistry& registry();

// Plugins whose start() connects to a server that their example names and no
// unit test runs; tests/integration/ runs them against a real one.
inline bool needs_a_server(const weir::PluginEntry& entry) {
  return entry.name() == "nats" || entry.name() == "kafka";
}
// The HTTP plugins' examples listen on a fixed port or post to a host on the
// internet, and an http_server source runs until it is stopped: they run in
// tests/integration/http_plugins.py, against real clients and servers.
inline bool runs_only_on_a_network(const weir::PluginEntry& entry) {
  return entry.name() == "http_server" || entry.name() == "http_client";
}
const weir::PluginEntry& plugin(std::string_view name, weir::Kind kind);

// `config` is the YAML of the stage's `config:` map. The options come out of
// weir::load_pipeline_string, so defaults and types are the real ones.
weir::Options options_for(std::string_view name, weir::Kind kind, const std::string& config);

weir::StageContext context_for(std::string_view plugin, unsigned replica = 0, unsigned replicas = 1,
                               std::string stage = "subject");

// A stage built from `config`, with the library that keeps its code loaded.
weir::StageInstance make_stage(std::string_view name, weir::Kind kind, const std::string& config,
                               unsigned replica = 0, unsigned replicas = 1);

template <class T>
T& as(weir::StageInstance& instance) {
  return dynamic_cast<T&>(*instance.stage);
}

// Collects what a stage emits; `on_emit` may decide to refuse (return false),
// as the runtime does once a pipeline is forced to stop.
class Collector final : public weir::Emitter {
 public:
  bool emit(weir::Message message) override {
    messages.push_back(std::move(message));
    return on_emit ? on_emit(messages.back()) : true;
  }
  std::vector<std::string> payloads() const;

  std::vector<weir::Message> messages;
  std::function<bool(const weir::Message&)> on_emit;
};

// Runs a processor on one message, returning what it emitted.
std::vector<weir::Message> process(weir::StageInstance& stage, weir::Message message);

weir::Message message(std::string payload, weir::Attributes attributes = {}, std::uint64_t id = 0);

// A fresh folder under the system temp folder, removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Points file descriptor 1 at a file for the lifetime of the object.
class CapturedStdout {
 public:
  explicit CapturedStdout(std::filesystem::path file);
  ~CapturedStdout();
  CapturedStdout(const CapturedStdout&) = delete;
  CapturedStdout& operator=(const CapturedStdout&) = delete;
  // Restores standard output and returns what was written.
  std::string text();

 private:
  void restore();
  std::filesystem::path file_;
  int saved_ = -1;
};

// The plugin's example stage inside the smallest pipeline that can hold it:
// stand-in `generate` stages (`feed_count` messages each) for the stages it
// reads from, a `null` dead-letter target and a `null` consumer. Relative
// paths in its config are moved under `dir`.
std::string pipeline_around_example(const weir::PluginEntry& entry, const TempDir& dir, int feed_count = 1);

std::string read_file(const std::filesystem::path& file);
void append_file(const std::filesystem::path& file, const std::string& text);
std::string quoted(const std::filesystem::path& path);

}  // namespace weir::test
