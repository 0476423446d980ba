// The runtime: builds the stage graph from a spec, runs every replica on its
// own thread, and keeps the books.
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
#include "stage_loops.hpp"

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
  std::vector<std::unique_ptr<StageRuntime>> stages;

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

  StageRuntime& stage_named(std::string_view name) {
    for (auto& s : stages)
      if (s->spec->name == name) return *s;
    throw std::invalid_argument(fmt::format("no stage named '{}' in pipeline '{}'", name, spec.name));
  }

  void build();
  std::unique_ptr<Replica> make_replica(StageRuntime& stage, unsigned index);
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

// ---- Building the graph -------------------------------------------------------

void Pipeline::Impl::build() {
  validate_graph(spec);
  std::vector<Diagnostic> problems;
  for (std::size_t i = 0; i < spec.stages.size(); ++i) {
    auto stage = std::make_unique<StageRuntime>();
    stage->spec = &spec.stages[i];
    stage->index = i;
    stage->plugin = registry->find(stage->spec->plugin, stage->spec->kind);
    if (!stage->plugin && !stage->spec->factory) {
      Diagnostic d{spec.file.string(), stage->spec->position.line, stage->spec->position.column,
                   fmt::format("stage '{}': no {} plugin named '{}'", stage->spec->name,
                               to_string(stage->spec->kind), stage->spec->plugin),
                   {}};
      const auto hint = closest_match(stage->spec->plugin, registry->names(stage->spec->kind));
      if (!hint.empty()) d.hint = fmt::format("did you mean '{}'?", hint);
      problems.push_back(std::move(d));
    }
    if (stage->spec->kind == Kind::source) stage->ack_books = std::make_shared<runtime::AckBooks>();
    if (stage->spec->kind != Kind::source) {
      const auto& lanes = stage->spec->lanes;
      if (lanes.empty()) {
        stage->lane_conditions.push_back(nullptr);
      } else {
        for (const auto& lane : lanes) stage->lane_conditions.push_back(lane.when ? &*lane.when : nullptr);
      }
    }
    stages.push_back(std::move(stage));
  }
  if (!problems.empty()) throw ConfigError(std::move(problems));

  // Routes: every consumer of a stage gets its own queue edge per lane.
  std::vector<std::size_t> writers(stages.size(), 0);
  auto connect = [&](StageRuntime& from, StageRuntime& to, Route::Kind kind, const Condition* when,
                     const std::string& label) {
    Route route;
    route.kind = kind;
    route.target = &to;
    route.when = when;
    for (std::size_t lane = 0; lane < to.lane_conditions.size(); ++lane) {
      auto edge = std::make_unique<InputEdge>();
      edge->from = label;
      edge->lane = lane;
      edge->from_stage = from.index;
      edge->from_slot = from.out_slots++;
      route.edge_of_lane.push_back(static_cast<std::uint32_t>(to.inputs.size()));
      route.slot_of_lane.push_back(edge->from_slot);
      to.inputs.push_back(std::move(edge));
    }
    ++writers[to.index];
    return route;
  };
  for (auto& to : stages) {
    for (const auto& input : to->spec->inputs) {
      auto& from = stage_named(input.stage);
      const Condition* when = to->spec->when ? &*to->spec->when : nullptr;
      const auto kind = input.unmatched ? Route::Kind::unmatched
                        : when          ? Route::Kind::conditional
                                        : Route::Kind::broadcast;
      from.routes.push_back(connect(from, *to, kind, input.unmatched ? nullptr : when, input.to_string()));
    }
  }
  for (auto& from : stages) {
    const auto& target = from->spec->on_error.dead_letter;
    if (!target.empty())
      from->dead_letter = connect(*from, stage_named(target), Route::Kind::dead_letter, nullptr,
                                  from->spec->name + ".dead_letter");
    // Conditional routes first: whether any matched decides the unmatched ones.
    std::stable_partition(from->routes.begin(), from->routes.end(),
                          [](const Route& r) { return r.kind == Route::Kind::conditional; });
  }
  for (auto& stage : stages) {
    if (stage->spec->kind == Kind::source) continue;
    std::vector<LaneConfig> lanes;
    if (stage->spec->lanes.empty()) {
      lanes.push_back({stage->spec->capacity, 1});
    } else {
      for (const auto& lane : stage->spec->lanes)
        lanes.push_back({lane.capacity ? lane.capacity : stage->spec->capacity, std::max(1u, lane.weight)});
    }
    stage->queue = std::make_unique<runtime::Queue>(std::move(lanes), stage->spec->lane_policy, writers[stage->index]);
  }
  for (auto& stage : stages) {
    stage->wanted = stage->spec->replicas;
    for (unsigned r = 0; r < stage->spec->replicas; ++r) stage->replicas.push_back(make_replica(*stage, r));
  }
}

std::unique_ptr<Replica> Pipeline::Impl::make_replica(StageRuntime& stage, unsigned index) {
  auto replica = std::make_unique<Replica>();
  replica->index = index;
  replica->label = fmt::format("stage '{}' replica {}", stage.spec->name, index);
  replica->logger = weir::logger()->clone(stage.spec->name);
  replica->warnings = std::make_shared<LogCounter>();
  replica->plugin_logger = replica->logger->clone(stage.spec->name);
  replica->plugin_logger->sinks().push_back(replica->warnings);
  // Warnings are counted whatever --log-level shows: the plugin's logger lets
  // them through, and the shown sinks keep the level the user chose.
  if (const auto shown = replica->logger->level(); shown > spdlog::level::warn) {
    for (auto& sink : replica->plugin_logger->sinks())
      if (sink != replica->warnings && sink->level() < shown) sink->set_level(shown);
    replica->plugin_logger->set_level(spdlog::level::warn);
  }
  StageContext context{stage.spec->name, stage.spec->plugin, index, stage.spec->replicas, replica->plugin_logger,
                       replica->stop.get_token()};
  runtime::StageLabelScope in_plugin(replica->label.c_str());
  if (stage.spec->factory) {
    try {
      replica->instance.stage = stage.spec->factory(context);
    } catch (...) {
      throw PluginError(fmt::format("stage '{}': its in-process factory threw: {}", stage.spec->name,
                                    runtime::current_exception_text()));
    }
    if (!replica->instance.stage)
      throw PluginError(fmt::format("stage '{}': its in-process factory made no stage", stage.spec->name));
    if (!is_kind(*replica->instance.stage, stage.spec->kind))
      throw PluginError(fmt::format("stage '{}': its in-process factory made a stage that is not a {}",
                                    stage.spec->name, to_string(stage.spec->kind)));
  } else {
    try {
      replica->instance = stage.plugin->create(stage.spec->options, context);
    } catch (const OptionError& e) {
      throw PluginError(fmt::format("{} (plugin '{}'): {}", replica->label, stage.spec->plugin, e.what()));
    } catch (const PluginError& e) {
      throw PluginError(fmt::format("{}: {}", replica->label, e.what()));
    }
  }
  replica->lane_wait = std::vector<runtime::Histogram>(stage.lane_conditions.size());
  replica->delivered = std::vector<runtime::Counter>(stage.inputs.size());
  replica->sent = std::vector<runtime::EdgeCounters>(stage.out_slots);
  replica->targets.reserve(stage.routes.size());
  return replica;
}

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
    if (forced.exchange(true)) return;
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
      const std::uint64_t resolved = replica->emitted.get() + replica->filtered.get() +
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
  impl_->build();
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
    if (impl.drain_deadline && !impl.forced) until = std::min(until, *impl.drain_deadline);
    if (impl.forced_at) until = std::min(until, *impl.forced_at + impl.spec.stop_grace);
    if (impl.state_cv.wait_until(lock, until) == std::cv_status::timeout) {
      const auto now = Clock::now();
      if (impl.drain_deadline && !impl.forced && now >= *impl.drain_deadline) {
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
  if (impl.forced) status = RunStatus::forced;
  impl.final_report = impl.report(status);
  return impl.final_report;
}

RunReport Pipeline::stats() const {
  std::lock_guard lock(impl_->final_mutex);
  if (impl_->joined) return impl_->final_report;
  return impl_->report(impl_->forced ? RunStatus::forced : RunStatus::running);
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
  bool asked_to_leave = false;
  {
    std::lock_guard lock(stage.replicas_mutex);
    if (stage.finished) throw std::logic_error(fmt::format("stage '{}' has already finished", name));
    unsigned current = stage.wanted;
    // Replicas asked to leave that have not left yet stay instead of new
    // ones being made.
    for (unsigned pending = stage.leave_requests.load(std::memory_order_seq_cst); current < count && pending != 0;)
      if (stage.leave_requests.compare_exchange_weak(pending, pending - 1, std::memory_order_seq_cst)) {
        ++current;
        stage.wanted = current;
      }
    for (unsigned i = current; i < count; ++i) {
      auto replica = impl.make_replica(stage, static_cast<unsigned>(stage.replicas.size()));
      // Before the run starts, Pipeline::start() calls every start() hook.
      if (impl.started) impl.start_hook(stage, *replica);
      stage.replicas.push_back(std::move(replica));
      if (impl.started) impl.launch(stage, *stage.replicas.back());
      stage.wanted = i + 1;  // what has been added so far, should the next one throw
    }
    if (count < current) {
      if (stage.spec->kind == Kind::source) {
        // A source has no input to carry a pill: ask the newest running ones to stop.
        unsigned left = current - count;
        for (auto it = stage.replicas.rbegin(); it != stage.replicas.rend() && left; ++it)
          if (!(*it)->stop.stop_requested()) {
            (*it)->scaled_away.store(true, std::memory_order_relaxed);
            (*it)->stop.request_stop();
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
  using runtime::Histogram;
  RunReport out;
  out.pipeline = spec.name;
  out.status = status;
  const auto end = joined ? end_time : Clock::now();
  out.duration_s = started ? std::chrono::duration<double>(end - start_time).count() : 0.0;
  {
    std::lock_guard lock(errors_mutex);
    out.errors = errors;
  }
  // Sums of the senders' per-replica counters, per stage and slot.
  std::vector<std::vector<std::uint64_t>> sent(stages.size()), blocked(stages.size());
  for (const auto& stage : stages) {
    sent[stage->index].assign(stage->out_slots, 0);
    blocked[stage->index].assign(stage->out_slots, 0);
    std::lock_guard lock(stage->replicas_mutex);
    for (const auto& replica : stage->replicas)
      for (std::uint32_t slot = 0; slot < stage->out_slots; ++slot) {
        sent[stage->index][slot] += replica->sent[slot].sent.get();
        blocked[stage->index][slot] += replica->sent[slot].blocked_ns.load(std::memory_order_relaxed);
      }
  }
  std::vector<double> blocked_into(stages.size(), 0.0);
  for (const auto& stage : stages) {
    StageReport s;
    s.name = stage->spec->name;
    s.plugin = stage->spec->plugin;
    s.kind = std::string(to_string(stage->spec->kind));
    s.replicas = stage->wanted;
    if (stage->spec->autoscale) {
      s.replicas_min = stage->spec->autoscale->min;
      s.replicas_max = stage->spec->autoscale->max;
      s.scaled_up = stage->scaled_up.load(std::memory_order_relaxed);
      s.scaled_down = stage->scaled_down.load(std::memory_order_relaxed);
    }
    Histogram::Totals latency, wait;
    std::vector<Histogram::Totals> lane_wait(stage->lane_conditions.size());
    std::vector<std::uint64_t> delivered(stage->inputs.size(), 0);
    {
      std::lock_guard lock(stage->replicas_mutex);
      for (const auto& replica : stage->replicas) {
        ReplicaReport r;
        r.received = replica->received.get();
        r.emitted = replica->emitted.get();
        r.scaled_away = replica->scaled_away.load(std::memory_order_relaxed);
        if (const auto left = replica->left_at.load(std::memory_order_relaxed); left != 0 && started)
          r.left_s = std::chrono::duration<double>(Clock::time_point(Clock::duration(left)) - start_time).count();
        s.per_replica.push_back(r);
        if (replica->abandoned) ++s.stuck;
        s.abandoned_in_hand += replica->set_aside.get() + replica->stuck_in_hand;
        s.warnings += replica->warnings->count();
        s.received += r.received;
        s.emitted += r.emitted;
        s.filtered += replica->filtered.get();
        s.dead_lettered += replica->dead_lettered.get();
        s.failed += replica->failed.get();
        s.dropped += replica->dropped.get();
        s.retried += replica->retried.get();
        s.outputs += replica->outputs.get();
        s.unrouted += replica->unrouted.get();
        s.blocked_ms += static_cast<double>(replica->blocked_ns.get()) / 1e6;
        s.starved_ms += static_cast<double>(replica->starved_ns.get()) / 1e6;
        replica->latency.add_to(latency);
        for (std::size_t lane = 0; lane < lane_wait.size(); ++lane) {
          replica->lane_wait[lane].add_to(lane_wait[lane]);
          replica->lane_wait[lane].add_to(wait);
        }
        for (std::size_t e = 0; e < delivered.size(); ++e) delivered[e] += replica->delivered[e].get();
      }
    }
    if (stage->ack_books && stage->ack_books->attached.load(std::memory_order_acquire) > 0) {
      s.acknowledges = true;
      s.pending_acks = stage->ack_books->pending();  // first: it reads the settled counts before `attached`
      s.acked = stage->ack_books->acked.load(std::memory_order_acquire);
      s.nacked = stage->ack_books->nacked.load(std::memory_order_acquire);
    }
    s.abandoned += s.abandoned_in_hand;
    s.latency = Histogram::percentiles(latency);
    s.wait = Histogram::percentiles(wait);
    for (std::size_t e = 0; e < stage->inputs.size(); ++e) {
      const auto& input = *stage->inputs[e];
      EdgeReport edge;
      edge.from = input.from;
      edge.to = s.name;
      if (!stage->spec->lanes.empty()) edge.lane = stage->spec->lanes[input.lane].name;
      edge.capacity = stage->queue->capacity(input.lane);
      edge.depth = stage->queue->size(input.lane);
      edge.sent = sent[input.from_stage][input.from_slot];
      edge.delivered = delivered[e];
      edge.dropped = input.dropped.load(std::memory_order_relaxed);
      edge.abandoned = input.abandoned.load(std::memory_order_relaxed);
      edge.wait = Histogram::percentiles(lane_wait[input.lane]);
      edge.blocked_ms = static_cast<double>(blocked[input.from_stage][input.from_slot]) / 1e6;
      s.offered += edge.sent;
      s.dropped += edge.dropped;
      s.abandoned += edge.abandoned;
      blocked_into[stage->index] += edge.blocked_ms;
      out.edges.push_back(std::move(edge));
    }
    out.stages.push_back(std::move(s));
  }
  // The bottleneck: the stage its writers waited on most, net of the time it
  // itself waited on its own outputs; only when that is a real share of the run.
  double best = 0;
  for (const auto& stage : stages) {
    const auto& s = out.stages[stage->index];
    const double score = blocked_into[stage->index] - s.blocked_ms;
    if (score > best) {
      best = score;
      out.bottleneck = s.name;
    }
  }
  if (best < out.duration_s * 1000.0 * 0.05) out.bottleneck.clear();
  return out;
}

}  // namespace weir
