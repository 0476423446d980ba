#pragma once
// Running a pipeline: the runtime that the `weir run` command and host
// programs share.

#include <weir/registry.hpp>
#include <weir/report.hpp>
#include <weir/spec.hpp>
#include <weir/tap.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <stdexcept>
#include <string_view>

namespace weir {

// A pipeline that could not start although its configuration and plugins are
// good, e.g. a thread could not be created: nothing ran. `weir run` exits 2.
class StartError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The stage replica whose plugin code the calling thread is running, as
// "stage 'NAME' replica N", or null. Async-signal-safe: meant for a crash
// handler (SIGSEGV, SIGABRT in a plugin) to say where the crash happened.
const char* current_stage_label() noexcept;

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
  // PluginError and nothing runs), then starts every replica. Every thread is
  // created before any of them runs plugin code: when one cannot be created,
  // none runs, every stage's stop() is called and StartError is thrown.
  void start();
  // Close and drain: sources stop, every channel drains to the sinks, sinks
  // flush. Returns at once; wait() tells when it is done. drain_timeout
  // counts from here; when it runs out the stop is forced.
  void stop() noexcept;
  // What is still in channels is abandoned and counted; replicas finish the
  // message in hand and leave. A replica still in plugin code spec().stop_grace
  // after this is left behind: see wait().
  void force_stop() noexcept;
  // Blocks until the run has ended (sources exhausted and everything drained,
  // or stopped), then returns the final report. After a forced stop it waits
  // at most stop_grace: replicas still inside a plugin hook then are abandoned
  // (their threads detached, the stage's `stuck` count and an error naming the
  // hook in the report, the messages they held counted as abandoned). A
  // pipeline with abandoned replicas is never destroyed (its memory and the
  // plugin libraries stay, since the stuck threads still use them): a host
  // program should end the process soon after, as `weir run` does.
  RunReport wait();
  // As wait(), but gives up after `timeout`: true when the run has ended.
  bool wait_for(std::chrono::nanoseconds timeout);
  bool finished() const noexcept;

  // A live snapshot: status `running` (or `forced` once a stop is forced) until the end.
  RunReport stats() const;
  // What is known when a plugin has crashed the process: a snapshot with
  // status `crashed` and `error` first among the errors, for a crash handler's
  // helper thread while the crashed thread waits. It takes each stage's
  // replica lock, which plugin code holds only inside scale() (constructing
  // and starting new replicas): a crash there leaves this call waiting.
  RunReport crash_report(std::string error) const;

  // Scale a stage while running: up adds replicas (new stage instances, or
  // replicas asked to leave that have not left yet stay); down asks replicas
  // to leave, out of band: a processor or sink replica takes the request
  // between batches or while parked on its empty queue, and leaves after the
  // message in hand; a source replica's stop token is requested. Returns at
  // once: it never waits for room in a queue, nor for a replica to leave
  // (the report's per_replica entries say which left, and when). At least
  // one replica stays. Throws std::invalid_argument for an unknown stage or
  // zero replicas.
  void scale(std::string_view stage, unsigned replicas);
  unsigned replicas(std::string_view stage) const;

  // Copies of the messages leaving `stage` (a source's or processor's
  // outputs, what a sink is given to write) that `when` matches, from now
  // until the Tap is destroyed; at most `capacity` wait in its buffer, more
  // are dropped and counted (see weir/tap.hpp). Throws std::invalid_argument
  // for an unknown stage (naming the stages there are) or capacity 0.
  std::unique_ptr<Tap> tap(std::string_view stage, Condition when = {}, std::size_t capacity = 1024);

  const PipelineSpec& spec() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weir
