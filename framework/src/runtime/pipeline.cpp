// The runtime's Pipeline: runs the stage graph (built by graph.cpp) with
// every replica on its own thread (replica_loop.cpp), stops it, scales it,
// and reports on it (report.cpp sums the books).
//
// Close and drain: a stage is finished when its last replica leaves; it then
// releases its place as a writer on every queue it feeds, and a queue closes
// when its last writer is gone. Receivers drain a closed queue before they see
// the end, so the close travels down the graph behind the last message.
//
// Forced stop: every queue is closed at once, replicas finish the message in
// hand and leave; what is still queued is counted as abandoned on its edge.
// A replica that does not leave within stop_grace is inside plugin code that
// ignores the stop (a sink blocked in write, a source that never returns):
// C++ cannot end a thread, so it is left behind (detached, never joined) and
// the run ends without it. A source's stop() (its commit and close) gets the
// same grace, on a thread of its own, so a commit that hangs cannot hold the
// process either.

#include "autoscaler.hpp"
#include "crash_context.hpp"
#include "exception_text.hpp"
#include "graph.hpp"
#include "replica_loop.hpp"

#include <weir/config.hpp>
#include <weir/logging.hpp>
#include <weir/pipeline.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace weir {

using runtime::Envelope;
using runtime::InputEdge;
using runtime::LogCounter;
using runtime::Replica;
using runtime::Route;
using runtime::StageRuntime;

std::string_view to_string(RunStatus status) noexcept {
  switch (status) {
    case RunStatus::running: return "running";
    case RunStatus::drained: return "drained";
    case RunStatus::forced: return "forced";
    case RunStatus::failed: return "failed";
    case RunStatus::crashed: return "crashed";
  }
  return "?";
}

struct Pipeline::Impl : runtime::RunState {
  PipelineSpec spec;
  PluginRegistry* registry = nullptr;
  runtime::Stages stages;

  bool started = false;
  // wait() sets joined, end_time and final_report while stats() may be
  // reading them from another thread (a live view, a metrics scrape).
  mutable std::mutex final_mutex;
  bool joined = false;  // guarded by final_mutex
  std::size_t stages_finished = 0;  // guarded by state_mutex
  std::optional<Clock::time_point> drain_deadline;  // guarded by state_mutex
  std::optional<Clock::time_point> forced_at;       // guarded by state_mutex
  bool gave_up = false;  // stop_grace ran out with replicas in plugin code; guarded by state_mutex
  bool left_behind = false;  // some replica was abandoned: never destroy (see ~Pipeline); guarded by final_mutex
  // Replica threads wait here until every one of them exists (see start()).
  enum Gate : int { closed, open, aborted };
  std::atomic<int> gate{closed};
  Clock::time_point start_time{};
  Clock::time_point end_time{};
  RunReport final_report;
  // Stages with `replicas: auto` or {min, max}; last, so it stops first.
  std::unique_ptr<runtime::Autoscaler> autoscaler;

  Impl(PipelineSpec s, PluginRegistry& r) : spec(std::move(s)), registry(&r) {}

  StageRuntime& stage_named(std::string_view name) const { return runtime::stage_named(stages, name, spec.name); }

  void start_hook(StageRuntime& stage, Replica& replica);
  void launch(StageRuntime& stage, Replica& replica);
  void replica_done(StageRuntime& stage);
  bool leave(StageRuntime& stage);
  void stage_finished(StageRuntime& stage);
  void force() noexcept;
  static void request_stop_all(StageRuntime& stage);
  void drain_abandoned();
  void abandon_stuck();
  bool stop_sources();
  RunReport report(RunStatus status) const;
};

// ---- Running ------------------------------------------------------------------

// A stage's start() hook; what it throws becomes a PluginError naming the stage.
void Pipeline::Impl::start_hook(StageRuntime& stage, Replica& replica) {
  runtime::StageLabelScope in_plugin(replica.label.c_str());
  try {
    replica.instance.stage->start();
  } catch (...) {
    throw PluginError(fmt::format("stage '{}' (plugin '{}') replica {}: start failed: {}", stage.spec->name,
                                  stage.spec->plugin, replica.index, runtime::current_exception_text()));
  }
}

// Called with the stage's replicas_mutex held. Throws StartError when the
// thread cannot be created; the replica then counts as having left (its stage
// may finish without it).
void Pipeline::Impl::launch(StageRuntime& stage, Replica& replica) {
  stage.live.fetch_add(1, std::memory_order_relaxed);
  try {
    replica.thread = std::jthread([this, &stage, &replica] {
      // Parked (a futex wait, not a spin) until every replica's thread exists.
      gate.wait(closed, std::memory_order_acquire);
      if (gate.load(std::memory_order_acquire) == open) {
        runtime::AlternateSignalStack crash_stack;
        runtime::StageLabelScope in_plugin(replica.label.c_str());
        runtime::run_replica(*this, stage, replica);
      }
      replica.left_at.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
      replica.done.store(true, std::memory_order_release);
      replica_done(stage);
    });
  } catch (const std::system_error& e) {
    replica.done.store(true, std::memory_order_release);
    if (leave(stage)) stage_finished(stage);  // replicas_mutex then state_mutex: the order replica_done keeps
    throw StartError(fmt::format(
        "pipeline '{}': cannot create a thread for {}: {}; the system's limit on threads was reached (ulimit -u, "
        "a container's pids limit, or memory for thread stacks): ask for fewer replicas",
        spec.name, replica.label, e.code().message()));
  }
}

void Pipeline::Impl::replica_done(StageRuntime& stage) {
  {
    std::lock_guard lock(stage.replicas_mutex);
    if (!leave(stage)) return;
  }
  stage_finished(stage);
}

// With the stage's replicas_mutex held: true when the last replica left.
bool Pipeline::Impl::leave(StageRuntime& stage) {
  if (stage.live.fetch_sub(1, std::memory_order_acq_rel) != 1) return false;
  stage.finished = true;
  return true;
}

void Pipeline::Impl::stage_finished(StageRuntime& stage) {
  // The last replica is gone: this stage writes no more.
  for (auto& route : stage.routes) route.target->queue->release_writer();
  if (stage.dead_letter.target) stage.dead_letter.target->queue->release_writer();
  std::lock_guard lock(state_mutex);
  ++stages_finished;
  state_cv.notify_all();
}

// Asks every replica of `stage` to stop. The stop callbacks a plugin has
// registered run here, so this happens outside the replica lock (see
// crash_report).
void Pipeline::Impl::request_stop_all(StageRuntime& stage) {
  std::vector<std::stop_source> replicas;
  {
    std::lock_guard lock(stage.replicas_mutex);
    for (auto& replica : stage.replicas) replicas.push_back(replica->stop);
  }
  for (auto& stop : replicas) stop.request_stop();
}

void Pipeline::Impl::force() noexcept {
  {
    std::lock_guard lock(state_mutex);
    if (stop_forced.exchange(true)) return;
    forced_at = Clock::now();
    state_cv.notify_all();  // wakes replicas waiting out a retry backoff, and wait_for's grace
  }
  for (auto& stage : stages) request_stop_all(*stage);
  for (auto& stage : stages)
    if (stage->queue) stage->queue->close();
}

// The grace ran out: replicas still in plugin code are left behind. What each
// took from its input and has not given back is what it holds: abandoned.
void Pipeline::Impl::abandon_stuck() {
  for (auto& stage : stages) {
    std::lock_guard lock(stage->replicas_mutex);
    for (auto& replica : stage->replicas) {
      if (replica->done.load(std::memory_order_acquire) || !replica->thread.joinable()) continue;
      const std::uint64_t resolved = replica->emitted.get() + replica->written.get() + replica->filtered.get() +
                                     replica->dead_lettered.get() + replica->failed.get() + replica->set_aside.get();
      const std::uint64_t received = replica->received.get();
      replica->abandoned = true;
      replica->stuck_in_hand = stage->spec->kind == Kind::source || received < resolved ? 0 : received - resolved;
      replica->thread.detach();
      record_error(fmt::format("{} (plugin '{}') is stuck in {}() {} after the stop was forced; it is abandoned "
                               "with {} message(s) in hand",
                               replica->label, stage->spec->plugin, replica->hook.load(std::memory_order_relaxed),
                               format_duration(spec.stop_grace), replica->stuck_in_hand));
    }
  }
}

// Calls every source replica's stop() (a stuck one is still in run() and is
// skipped), each on a thread of its own, and waits stop_grace for them. One
// that has not returned by then is left behind and named; true if any was.
bool Pipeline::Impl::stop_sources() {
  std::vector<std::pair<StageRuntime*, Replica*>> sources;
  for (auto& stage : stages) {
    if (stage->spec->kind != Kind::source) continue;
    std::lock_guard lock(stage->replicas_mutex);
    for (auto& replica : stage->replicas)
      if (!replica->abandoned) sources.emplace_back(stage.get(), replica.get());
  }
  if (sources.empty()) return false;
  struct Stopping {
    std::mutex mutex;
    std::condition_variable done_cv;
    std::vector<bool> done;
    std::size_t left;
  };
  auto stopping = std::make_shared<Stopping>();
  stopping->done.assign(sources.size(), false);
  stopping->left = sources.size();
  auto stop_one = [this, stopping, sources](std::size_t i) {
    runtime::stop_replica(*this, *sources[i].first, *sources[i].second);
    std::lock_guard lock(stopping->mutex);
    stopping->done[i] = true;
    if (--stopping->left == 0) stopping->done_cv.notify_all();
  };
  for (std::size_t i = 0; i < sources.size(); ++i) {
    try {
      std::thread(stop_one, i).detach();
    } catch (const std::system_error&) {
      stop_one(i);  // no thread to be had: stop it here, unbounded
    }
  }
  std::unique_lock lock(stopping->mutex);
  if (stopping->done_cv.wait_for(lock, spec.stop_grace, [&] { return stopping->left == 0; })) return false;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (stopping->done[i]) continue;
    {
      std::lock_guard replicas_lock(sources[i].first->replicas_mutex);
      sources[i].second->abandoned = true;  // reported as stuck, like a replica stuck in run()
    }
    record_error(fmt::format("{} (plugin '{}') is stuck in stop() {} after it was called; it is left behind, "
                               "and what it had not committed is read again by the next run",
                               sources[i].second->label, sources[i].first->spec->plugin,
                               format_duration(spec.stop_grace)));
  }
  return true;
}

void Pipeline::Impl::drain_abandoned() {
  for (auto& stage : stages) {
    if (!stage->queue) continue;
    while (auto item = stage->queue->try_recv()) {
      stage->inputs[item->value.edge]->abandoned.fetch_add(1, std::memory_order_relaxed);
      runtime::fail_copy(item->value.message, AckFailure::abandoned, runtime::abandoned_reason);
    }
  }
}

// ---- Public face --------------------------------------------------------------

Pipeline::Pipeline(PipelineSpec spec, PluginRegistry& registry)
    : impl_(std::make_unique<Impl>(std::move(spec), registry)) {
  impl_->stages = runtime::build_graph(impl_->spec, *impl_->registry);
}

Pipeline::~Pipeline() {
  if (impl_ && impl_->started && !impl_->joined) {
    force_stop();
    wait();
  }
  // Threads left behind in plugin code still use the stages, the queues and
  // the plugin libraries: all of it stays for the life of the process, on a
  // list that is never destroyed (so it is not a leak to a leak checker).
  if (impl_ && impl_->left_behind) {
    static std::mutex kept_mutex;
    static auto* kept = new std::vector<std::unique_ptr<Impl>>();
    std::lock_guard lock(kept_mutex);
    kept->push_back(std::move(impl_));
  }
}

void Pipeline::start() {
  auto& impl = *impl_;
  if (impl.started) throw std::logic_error("weir::Pipeline::start called twice");
  for (auto& stage : impl.stages)
    for (auto& replica : stage->replicas) impl.start_hook(*stage, *replica);
  impl.started = true;
  impl.start_time = Clock::now();
  // Every thread is created before any runs plugin code, so a thread that
  // cannot be created (a limit on threads, memory for stacks) stops the run
  // before anything was read or written, instead of leaving a stage that
  // never ends.
  try {
    for (auto it = impl.stages.rbegin(); it != impl.stages.rend(); ++it) {
      std::lock_guard lock((*it)->replicas_mutex);
      for (auto& replica : (*it)->replicas) impl.launch(**it, *replica);
    }
  } catch (const StartError&) {
    impl.gate.store(Impl::aborted, std::memory_order_release);
    impl.gate.notify_all();
    for (auto& stage : impl.stages)
      for (auto& replica : stage->replicas) {
        if (replica->thread.joinable()) replica->thread.join();
        runtime::StageLabelScope in_plugin(replica->label.c_str());
        try {
          replica->instance.stage->stop();
        } catch (...) {
          weir::logger()->warn("{}: stop failed: {}", replica->label, runtime::current_exception_text());
        }
      }
    std::lock_guard final_lock(impl.final_mutex);
    impl.joined = true;
    impl.final_report = impl.report(RunStatus::failed);
    throw;
  }
  impl.gate.store(Impl::open, std::memory_order_release);
  impl.gate.notify_all();
  std::vector<runtime::StageRuntime*> sized;
  for (auto& stage : impl.stages)
    if (stage->spec->autoscale && stage->spec->kind != Kind::source) sized.push_back(stage.get());
  if (!sized.empty())
    impl.autoscaler = std::make_unique<runtime::Autoscaler>(
        std::move(sized), [this](runtime::StageRuntime& stage, unsigned n) { scale(stage.spec->name, n); },
        [&impl] {
          std::lock_guard lock(impl.state_mutex);
          return impl.drain_deadline.has_value() || impl.forced_at.has_value();
        });
}

void Pipeline::stop() noexcept {
  auto& impl = *impl_;
  {
    std::lock_guard lock(impl.state_mutex);
    if (impl.drain_deadline) return;
    impl.drain_deadline = Clock::now() + impl.spec.drain_timeout;
    impl.state_cv.notify_all();
  }
  for (auto& stage : impl.stages)
    if (stage->spec->kind == Kind::source) Impl::request_stop_all(*stage);
}

void Pipeline::force_stop() noexcept { impl_->force(); }

bool Pipeline::finished() const noexcept {
  std::lock_guard lock(impl_->state_mutex);
  return impl_->stages_finished == impl_->stages.size();
}

bool Pipeline::wait_for(std::chrono::nanoseconds timeout) {
  auto& impl = *impl_;
  if (!impl.started) throw std::logic_error("weir::Pipeline::wait_for before start");
  const auto give_up = Clock::now() + timeout;
  std::unique_lock lock(impl.state_mutex);
  while (impl.stages_finished < impl.stages.size() && !impl.gave_up) {
    auto until = give_up;
    if (impl.drain_deadline && !impl.stop_forced) until = std::min(until, *impl.drain_deadline);
    if (impl.forced_at) until = std::min(until, *impl.forced_at + impl.spec.stop_grace);
    if (impl.state_cv.wait_until(lock, until) == std::cv_status::timeout) {
      const auto now = Clock::now();
      if (impl.drain_deadline && !impl.stop_forced && now >= *impl.drain_deadline) {
        lock.unlock();
        weir::logger()->warn("pipeline '{}': drain_timeout ({}) ran out; forcing the stop", impl.spec.name,
                     format_duration(impl.spec.drain_timeout));
        impl.force();
        lock.lock();
      } else if (impl.forced_at && now >= *impl.forced_at + impl.spec.stop_grace) {
        impl.gave_up = true;  // wait() abandons the replicas still in plugin code
      } else if (now >= give_up) {
        return impl.stages_finished == impl.stages.size();
      }
    }
  }
  return true;
}

RunReport Pipeline::wait() {
  auto& impl = *impl_;
  {
    std::lock_guard lock(impl.final_mutex);
    if (impl.joined) return impl.final_report;
  }
  while (!wait_for(std::chrono::hours(24))) {
  }
  // No replica is added or removed from here on, and the replica threads'
  // handles the autoscaler reads stay valid until it has stopped.
  if (impl.autoscaler) impl.autoscaler->stop();
  bool gave_up = false;
  {
    std::lock_guard lock(impl.state_mutex);
    gave_up = impl.gave_up;
  }
  if (gave_up) impl.abandon_stuck();
  // Joined without the lock: a replica that has just finished still takes it
  // on its way out (replica_done).
  std::vector<std::jthread*> threads;
  for (auto& stage : impl.stages) {
    std::lock_guard lock(stage->replicas_mutex);
    for (auto& replica : stage->replicas)
      if (replica->thread.joinable()) threads.push_back(&replica->thread);
  }
  for (auto* thread : threads) thread->join();
  // What a forced stop left queued settles as abandoned; then every
  // acknowledgement is settled and the sources may commit and close.
  impl.drain_abandoned();
  const bool stop_left_behind = impl.stop_sources();
  std::lock_guard final_lock(impl.final_mutex);
  impl.end_time = Clock::now();
  impl.joined = true;
  impl.left_behind = gave_up || stop_left_behind;
  RunStatus status = RunStatus::drained;
  {
    std::lock_guard lock(impl.errors_mutex);
    if (!impl.errors.empty()) status = RunStatus::failed;
  }
  if (impl.stop_forced) status = RunStatus::forced;
  impl.final_report = impl.report(status);
  return impl.final_report;
}

RunReport Pipeline::stats() const {
  std::lock_guard lock(impl_->final_mutex);
  if (impl_->joined) return impl_->final_report;
  return impl_->report(impl_->stop_forced ? RunStatus::forced : RunStatus::running);
}

RunReport Pipeline::crash_report(std::string error) const {
  RunReport out = impl_->report(RunStatus::crashed);
  out.errors.insert(out.errors.begin(), std::move(error));
  return out;
}

void Pipeline::scale(std::string_view name, unsigned count) {
  auto& impl = *impl_;
  if (count == 0) throw std::invalid_argument(fmt::format("stage '{}': at least one replica must stay", name));
  auto& stage = impl.stage_named(name);
  std::lock_guard scaling(stage.scale_mutex);
  unsigned current = 0;
  std::size_t next_index = 0;
  {
    std::lock_guard lock(stage.replicas_mutex);
    if (stage.finished) throw std::logic_error(fmt::format("stage '{}' has already finished", name));
    current = stage.wanted;
    // Replicas asked to leave that have not left yet stay instead of new
    // ones being made.
    for (unsigned pending = stage.leave_requests.load(std::memory_order_seq_cst); current < count && pending != 0;)
      if (stage.leave_requests.compare_exchange_weak(pending, pending - 1, std::memory_order_seq_cst)) {
        ++current;
        stage.wanted = current;
      }
    next_index = stage.replicas.size();
  }
  // Each new replica is made and started outside replicas_mutex (plugin
  // code: see StageRuntime::scale_mutex), then added and launched under it.
  for (unsigned i = current; i < count; ++i) {
    auto replica = runtime::make_replica(stage, static_cast<unsigned>(next_index++));
    // Before the run starts, Pipeline::start() calls every start() hook.
    if (impl.started) impl.start_hook(stage, *replica);
    {
      std::lock_guard lock(stage.replicas_mutex);
      if (!stage.finished) {
        stage.replicas.push_back(std::move(replica));
        if (impl.started) impl.launch(stage, *stage.replicas.back());
        stage.wanted = i + 1;  // what has been added so far, should the next one throw
        continue;
      }
    }
    // The stage finished meanwhile (a drain): nothing is left for the new
    // replica to do, and its start() was called.
    if (impl.started) {
      runtime::StageLabelScope in_plugin(replica->label.c_str());
      runtime::stop_replica(impl, stage, *replica);
    }
    throw std::logic_error(fmt::format("stage '{}' has already finished", name));
  }
  std::vector<std::stop_source> to_stop;  // sources asked to stop: their callbacks run outside the lock
  bool asked_to_leave = false;
  {
    std::lock_guard lock(stage.replicas_mutex);
    if (count < current) {
      if (stage.spec->kind == Kind::source) {
        // A source has no input to carry a pill: ask the newest running ones to stop.
        unsigned left = current - count;
        for (auto it = stage.replicas.rbegin(); it != stage.replicas.rend() && left; ++it)
          if (!(*it)->stop.stop_requested()) {
            (*it)->scaled_away.store(true, std::memory_order_relaxed);
            to_stop.push_back((*it)->stop);
            --left;
          }
      } else {
        // Out of band: the first replicas to look (between batches, or
        // parked on the empty queue, woken below) take a request each and
        // leave. Nothing is sent through the queue, so a full queue, or a
        // host that reads the stage's output on this very thread, never
        // holds this call.
        stage.leave_requests.fetch_add(current - count, std::memory_order_seq_cst);
        asked_to_leave = true;
      }
    }
    stage.wanted = count;
  }
  for (auto& stop : to_stop) stop.request_stop();
  if (asked_to_leave) stage.queue->wake_receivers();
}

unsigned Pipeline::replicas(std::string_view name) const { return impl_->stage_named(name).wanted; }

std::unique_ptr<Tap> Pipeline::tap(std::string_view name, Condition when, std::size_t capacity) {
  if (capacity == 0) throw std::invalid_argument("a tap's capacity must be at least 1");
  runtime::StageRuntime* found = nullptr;
  std::string names;
  for (auto& s : impl_->stages) {
    if (s->spec->name == name) found = s.get();
    names += fmt::format("{}{}", names.empty() ? "" : ", ", s->spec->name);
  }
  if (!found)
    throw std::invalid_argument(
        fmt::format("no stage named '{}' in pipeline '{}'; its stages: {}", name, impl_->spec.name, names));
  auto buffer = std::make_shared<runtime::TapBuffer>(std::move(when), capacity);
  found->tap->attach(buffer);
  return std::make_unique<Tap>(found->tap, std::move(buffer));
}

const PipelineSpec& Pipeline::spec() const noexcept { return impl_->spec; }

// ---- The report -----------------------------------------------------------------

RunReport Pipeline::Impl::report(RunStatus status) const {
  RunReport out;
  out.pipeline = spec.name;
  out.status = status;
  const auto end = joined ? end_time : Clock::now();
  out.duration_s = started ? std::chrono::duration<double>(end - start_time).count() : 0.0;
  {
    std::lock_guard lock(errors_mutex);
    out.errors = errors;
  }
  runtime::fill_report(stages, started ? std::optional(start_time) : std::nullopt, out);
  return out;
}

}  // namespace weir
