#pragma once
// A pipeline's description once loaded and validated: what the YAML says, or
// what a host program builds in code. The runtime reads only this.

#include <weir/condition.hpp>
#include <weir/diagnostics.hpp>
#include <weir/status.hpp>
#include <weir/options.hpp>
#include <weir/plugin.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace weir {

enum class WhenFull { block, drop_newest, drop_oldest };

std::string_view to_string(WhenFull policy) noexcept;
std::string_view to_string(LanePolicy policy) noexcept;

// Upper bounds that validation checks: each replica is a thread, and a
// channel's slots are allocated when the pipeline is built.
inline constexpr unsigned max_replicas = 1024;                  // per stage
inline constexpr std::size_t max_capacity = std::size_t{1} << 20;  // messages per lane (1,048,576)

struct LaneSpec {
  std::string name;
  std::optional<Condition> when;  // none: takes the rest (only the last lane)
  std::size_t capacity = 0;       // 0: the stage's capacity
  unsigned weight = 1;            // for LanePolicy::weighted
};

struct ErrorPolicy {
  unsigned retries = 0;
  std::chrono::nanoseconds backoff = std::chrono::milliseconds(100);  // first retry; doubles, with jitter
  std::chrono::nanoseconds max_backoff = std::chrono::seconds(30);
  std::string dead_letter;  // stage name; empty: count as failed and log
};

// One input of a stage: `stage`, or `stage.unmatched`.
struct InputRef {
  std::string stage;
  bool unmatched = false;
  std::string to_string() const { return unmatched ? stage + ".unmatched" : stage; }
};

// `replicas: auto` or `replicas: {min: 1, max: 8}`: the runtime adds a
// replica while the stage's input stays full (and the work waits on I/O, or
// the machine has an idle core) and removes one while the replicas stay idle,
// at most one change per second (docs/pipelines.md, "Replicas that size
// themselves").
struct Autoscale {
  unsigned min = 1;
  unsigned max = 8;
};
inline constexpr Autoscale autoscale_auto{1, 8};  // what `replicas: auto` means

// Makes one replica of an in-process stage (embedding): called once per
// replica, at build and when the stage scales up. (A plugin's StageFactory,
// in plugin.hpp, is the C entry point that also takes the stage's options.)
using StageMaker = std::function<std::unique_ptr<Stage>(const StageContext&)>;

struct StageSpec {
  std::string name;
  std::string plugin;
  Kind kind = Kind::processor;
  unsigned replicas = 1;            // with autoscale: the count it starts with (its min)
  std::optional<Autoscale> autoscale;
  std::vector<InputRef> inputs;
  std::optional<Condition> when;  // routing: only matching messages of the inputs arrive
  std::size_t capacity = 1024;    // the stage's input channel (per lane unless the lane says)
  WhenFull when_full = WhenFull::block;
  std::vector<LaneSpec> lanes;    // empty: one unnamed lane
  LanePolicy lane_policy = LanePolicy::strict;
  ErrorPolicy on_error;
  Options options;                // validated against the plugin's schema
  SourcePosition position;
  // An in-process stage (embedding): when set, the runtime calls it once per
  // replica instead of looking `plugin` up in the registry; `plugin` then only
  // names the stage's kind of work in reports.
  StageMaker factory;
};

// `tests:` (and `weir test --tests FILE`): unit tests of a pipeline, run by
// `weir test` without the real sources and sinks (docs/pipelines.md#tests).
struct TestInput {
  std::string stage;  // insert_at: a source (as if it emitted this) or a processor (as if it arrived)
  std::string payload;
  Attributes attributes;
  std::int64_t priority = 0;
  SourcePosition position;
};

struct TestOutput {
  std::string stage;                // extract_from: what it emits (a sink: what reaches it)
  std::vector<Condition> conditions;  // every message that arrives meets every one
  std::optional<std::uint64_t> count;  // exactly this many; none: at least one
  SourcePosition position;
};

struct PipelineTest {
  std::string name;
  std::vector<TestInput> inputs;
  std::vector<TestOutput> outputs;
  std::vector<std::string> no_outputs_from;  // stages that must emit (a sink: receive) nothing
  std::chrono::nanoseconds timeout = std::chrono::seconds(10);  // to drain, then the test fails
  std::filesystem::path file;  // where it was written: the pipeline file or the --tests file
  SourcePosition position;
};

struct PipelineSpec {
  std::string name;
  std::string description;
  std::filesystem::path file;  // empty when built in code
  std::vector<std::filesystem::path> plugin_path;  // absolute, searched first
  std::chrono::nanoseconds drain_timeout = std::chrono::seconds(30);
  // After a forced stop (a second signal, or drain_timeout running out), how
  // long replicas get to leave plugin code before they are abandoned.
  std::chrono::nanoseconds stop_grace = std::chrono::seconds(2);
  std::vector<StageSpec> stages;
  // What validation warned about (see pipeline_warnings in config.hpp): the
  // pipeline runs, but may not do what its author meant.
  std::vector<Diagnostic> warnings;
  // The file's `tests:`, checked at load; only `weir test` runs them.
  std::vector<PipelineTest> tests;

  const StageSpec* stage(std::string_view name) const noexcept {
    for (const auto& s : stages)
      if (s.name == name) return &s;
    return nullptr;
  }
};

}  // namespace weir
