#pragma once
// Running a pipeline: the runtime that the `weir run` command and host
// programs share.

#include <weir/registry.hpp>
#include <weir/report.hpp>
#include <weir/spec.hpp>

#include <chrono>
#include <memory>
#include <string_view>

namespace weir {

class Pipeline {
 public:
  // Constructs every stage instance (one per replica) and links the stages by
  // bounded channels. Throws PluginError when a plugin is unknown or its
  // constructor throws; throws ConfigError when the graph is invalid.
  Pipeline(PipelineSpec spec, PluginRegistry& registry);
  // A pipeline still running is forced to stop; no thread outlives it.
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Calls every stage's start() (a throwing start() is rethrown as
  // PluginError and nothing runs), then starts every replica.
  void start();
  // Close and drain: sources stop, every channel drains to the sinks, sinks
  // flush. Returns at once; wait() tells when it is done. drain_timeout
  // counts from here; when it runs out the stop is forced.
  void stop() noexcept;
  // What is still in channels is abandoned and counted; replicas finish the
  // message in hand and leave.
  void force_stop() noexcept;
  // Blocks until the run has ended (sources exhausted and everything drained,
  // or stopped), then returns the final report.
  RunReport wait();
  // As wait(), but gives up after `timeout`: true when the run has ended.
  bool wait_for(std::chrono::nanoseconds timeout);
  bool finished() const noexcept;

  // A live snapshot: status `running` (or `forced` once a stop is forced) until the end.
  RunReport stats() const;

  // Scale a stage while running: up adds replicas (new stage instances), down
  // sends poison pills (each replica that takes one leaves after its current
  // message; sources are asked to stop). At least one replica stays.
  // Throws std::invalid_argument for an unknown stage or zero replicas.
  void scale(std::string_view stage, unsigned replicas);
  unsigned replicas(std::string_view stage) const;

  const PipelineSpec& spec() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weir
