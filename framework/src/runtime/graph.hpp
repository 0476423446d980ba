#pragma once
// The runtime's picture of a pipeline: one input queue (a lane set) per
// non-source stage, the edges that feed it, the routes each stage sends on,
// and the replicas that run the stage instances. graph.cpp builds it from a
// spec; the replica loops (replica_loop.cpp) run on it; report.cpp sums its
// counters into the run report.

#include "ack_books.hpp"
#include "counter.hpp"
#include "histogram.hpp"
#include "log_counter.hpp"
#include "tap_point.hpp"

#include <weir/lanes.hpp>
#include <weir/registry.hpp>
#include <weir/spec.hpp>

#include <spdlog/logger.h>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace weir::runtime {

// What travels in a channel: the message, when it was queued, and which of
// the receiving stage's input edges it came by (for the books).
struct Envelope {
  Message message;
  Clock::time_point queued{};
  std::uint32_t edge = 0;
};

using Queue = Lanes<Envelope>;

struct StageRuntime;

// An edge into a stage. `sent` is counted by the senders' replicas; what
// happens later to the message is counted by the receiving side.
struct InputEdge {
  std::string from;  // `stage`, `stage.unmatched`, `stage.dead_letter`
  std::size_t lane = 0;
  std::size_t from_stage = 0;  // index of the sending stage
  std::uint32_t from_output = 0; // this edge's index among the sender's output edges (its counters)
  std::atomic<std::uint64_t> dropped{0};    // rare: RMW is fine
  std::atomic<std::uint64_t> abandoned{0};
};

// One way out of a stage: into another stage's queue. Its delivery says
// which of the stage's messages take it (see Sender::route).
struct Route {
  enum class Delivery {
    broadcast,    // every message
    conditional,  // those matching `when`
    unmatched,    // those no conditional route of the stage took (`stage.unmatched`)
    dead_letter,  // those that failed after their retries (on_error.dead_letter)
  };
  Delivery delivery = Delivery::broadcast;
  StageRuntime* target = nullptr;
  const Condition* when = nullptr;              // conditional routes
  std::vector<std::uint32_t> edge_of_lane;      // the target's input edge index per lane
  std::vector<std::uint32_t> output_of_lane;      // the sender's output edge per lane
};

// Per replica, per output edge (route and lane).
struct EdgeCounters {
  Counter sent;
  Counter blocked_ns;
};

// alignas: its counters, written by its own thread on every message, share
// no cache line with a neighbouring object (see LineAllocator).
struct alignas(line_size) Replica {
  unsigned index = 0;
  StageInstance instance;
  std::shared_ptr<spdlog::logger> logger;         // the runtime's lines about this replica
  std::shared_ptr<spdlog::logger> plugin_logger;  // the plugin's (StageContext::logger): its warnings are counted
  std::shared_ptr<LogCounter> warnings;
  std::stop_source stop;   // sources: asked to stop; all: scale-down
  std::jthread thread;
  // "stage 'x' replica N": made once, so a crash handler can print it
  // without allocating (see crash_context.hpp).
  std::string label;
  // The plugin hook the replica's thread is in or last entered: "run",
  // "process", "write", "flush", "stop"; names what a stuck replica is stuck in.
  std::atomic<const char*> hook{"start"};
  std::atomic<bool> done{false};  // the thread has left the plugin for good
  std::atomic<bool> scaled_away{false};  // it left (or is leaving) because scale() lowered the stage's replicas
  std::atomic<Clock::rep> left_at{0};    // when its thread left (Clock's count; 0 while it runs)
  // Set by Pipeline::wait when the thread was still in plugin code after a
  // forced stop and its grace: the thread is detached and left behind, and
  // the messages it held are counted as abandoned.
  bool abandoned = false;
  std::uint64_t stuck_in_hand = 0;  // what it held then

  Counter received;
  // What went on: a source's messages emitted, a processor's inputs that
  // gave at least one output; and a sink's messages written. The report
  // shows both as `emitted`.
  Counter emitted, written;
  Counter filtered, dead_lettered, failed, retried, outputs;
  Counter set_aside;  // received, then abandoned unhandled when the stop was forced
  Counter dropped;    // sources: lost before they were emitted (Emitter::count_dropped)
  Counter blocked_ns, starved_ns;
  Histogram latency;
  LineVector<Histogram> lane_wait;              // per input lane
  LineVector<Counter> delivered;                // per input edge
  LineVector<EdgeCounters> sent;                // per output edge
  Counter unrouted;                             // outputs that matched no consumer
  std::uint64_t failures_logged = 0;
  std::size_t batch_limit = 1;                  // grows to a full batch once messages prove fast
};

struct StageRuntime {
  const StageSpec* spec = nullptr;
  const PluginEntry* plugin = nullptr;
  std::size_t index = 0;
  std::unique_ptr<Queue> queue;                 // null for sources
  std::vector<std::unique_ptr<InputEdge>> inputs;
  std::vector<const Condition*> lane_conditions;  // per lane; null: takes the rest
  std::vector<Route> routes;                    // conditional first, then broadcast, unmatched
  Route dead_letter;                            // target null when none
  std::uint32_t out_edges = 0;                  // output edges (routes x lanes, dead letter included)
  std::shared_ptr<AckBooks> ack_books;          // sources only
  std::shared_ptr<TapPoint> tap = std::make_shared<TapPoint>();  // what leaves the stage, copied while tapped

  mutable std::mutex replicas_mutex;            // guards the deque's shape, not the counters
  // One scale() of the stage at a time. Held while new replicas are made and
  // started (plugin code), which replicas_mutex never is: every report takes
  // that one, and must not wait on a slow constructor or be blocked for ever
  // by one that crashed.
  std::mutex scale_mutex;
  std::deque<std::unique_ptr<Replica>> replicas;
  std::atomic<unsigned> live{0};                // replicas still running
  std::atomic<unsigned> wanted{0};              // after scale(): what the user asked for
  // Scale-down: how many replicas are still to leave. A replica claims one
  // between batches, or while parked on the empty queue (scale() wakes it);
  // it never travels through the queue, so scaling never waits for room.
  std::atomic<unsigned> leave_requests{0};
  std::atomic<bool> finished{false};
  // Decisions of the autoscaler (autoscaler.cpp), for the report.
  std::atomic<unsigned> scaled_up{0}, scaled_down{0};
};

using Stages = std::vector<std::unique_ptr<StageRuntime>>;

// The stages of `spec`, in its order, each with its plugin found in
// `registry` (or its in-process factory), the routes and queues between them
// wired, and spec.replicas replicas made. Throws ConfigError naming every
// stage whose plugin is missing, and what validate_graph throws.
Stages build_graph(const PipelineSpec& spec, PluginRegistry& registry);

// One more replica of `stage`, its stage instance created (not started).
// Throws PluginError when the plugin or the factory refuses.
std::unique_ptr<Replica> make_replica(StageRuntime& stage, unsigned index);

// The stage called `name`; std::invalid_argument naming the pipeline if none is.
StageRuntime& stage_named(const Stages& stages, std::string_view name, std::string_view pipeline);

// What every replica reached, made into the report's stages, edges and
// bottleneck (report.cpp). `started_at`: when the run started, if it has
// (for each replica's left_s); `report.duration_s` is set already.
void fill_report(const Stages& stages, std::optional<Clock::time_point> started_at, RunReport& report);

}  // namespace weir::runtime
