#pragma once
// The run report: how every message that entered each stage left it.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weir {

enum class RunStatus { running, drained, forced, failed, crashed };
std::string_view to_string(RunStatus status) noexcept;

// A duration for people: three significant digits in the unit that fits,
// "700 ns", "69.6 µs", "9.96 ms", "24.5 s".
std::string format_seconds(double seconds);

// Durations counted at fixed upper bounds: the buckets of a Prometheus
// histogram (`le`), the same for every stage, edge and run.
struct DurationHistogram {
  static constexpr std::array<double, 22> bounds_s{1e-6,   2.5e-6, 5e-6,   1e-5,  2.5e-5, 5e-5, 1e-4, 2.5e-4,
                                                   5e-4,   1e-3,   2.5e-3, 5e-3,  1e-2,   2.5e-2, 5e-2, 0.1,
                                                   0.25,   0.5,    1.0,    2.5,   5.0,    10.0};
  // counts[i]: durations above bounds_s[i - 1] and at most bounds_s[i] (not
  // cumulative); the last one: above every bound.
  std::array<std::uint64_t, bounds_s.size() + 1> counts{};
  double sum_s = 0;

  std::uint64_t count() const noexcept {
    std::uint64_t n = 0;
    for (auto c : counts) n += c;
    return n;
  }
};

struct Percentiles {
  double p50_us = 0;
  double p99_us = 0;
  std::uint64_t samples = 0;
  DurationHistogram histogram;  // the same durations at fixed bounds (metrics; not in the JSON report)
};

// One replica of a stage. Replicas that scale() took away keep their entry
// (their counts are part of the stage's), with when they left.
struct ReplicaReport {
  std::uint64_t received = 0;  // inputs taken (sources: messages produced)
  std::uint64_t emitted = 0;
  bool scaled_away = false;    // asked to leave by scale(): it left, or leaves after the message in hand
  std::optional<double> left_s;  // when its thread ended, in seconds since the start; empty while it runs
};

struct StageReport {
  std::string name;
  std::string plugin;
  std::string kind;
  unsigned replicas = 0;       // configured, or as scaled at the end
  unsigned replicas_min = 0;   // replicas: auto or {min, max}; both 0 for a fixed count
  unsigned replicas_max = 0;
  unsigned scaled_up = 0;      // the autoscaler's decisions (each one is logged)
  unsigned scaled_down = 0;
  // Each input that reached the stage's channel leaves in exactly one way:
  // offered = emitted + filtered + dead_lettered + failed + dropped + abandoned,
  // where received = emitted + filtered + dead_lettered + failed + abandoned_in_hand.
  std::uint64_t offered = 0;   // sent to the stage on all its input edges
  std::uint64_t received = 0;  // taken by a replica
  std::uint64_t emitted = 0;   // inputs handled with success (sources: messages produced)
  std::uint64_t filtered = 0;  // a processor emitted nothing for it
  std::uint64_t dead_lettered = 0;
  std::uint64_t failed = 0;
  std::uint64_t dropped = 0;   // when_full drop_newest / drop_oldest; sources: lost before they were emitted
  std::uint64_t abandoned = 0; // still in the input channel at a forced stop, or held by a stuck replica
  std::uint64_t abandoned_in_hand = 0;  // of `abandoned`: received, unhandled when the stop was forced (held by
                                        // a replica, or by one left stuck in plugin code)
  unsigned stuck = 0;          // replicas still in plugin code after a forced stop's grace, left behind
  std::uint64_t warnings = 0;  // records the plugin logged at warning level or above (`weir run --strict` fails on them)
  std::uint64_t retried = 0;   // retry attempts (not messages)
  std::uint64_t outputs = 0;   // messages sent downstream (a processor may emit several per input)
  std::uint64_t unrouted = 0;  // outputs no consumer took (no `when:` matched and no `.unmatched` stage)
  // Sources that attach acknowledgements (file with a checkpoint, nats):
  // settled well (every copy written durably, filtered or routed nowhere),
  // settled badly (a copy failed, was dropped or abandoned), still open.
  bool acknowledges = false;
  std::uint64_t acked = 0;
  std::uint64_t nacked = 0;
  std::uint64_t pending_acks = 0;
  Percentiles latency;         // time in the plugin per message (per batch for sinks)
  Percentiles wait;            // time spent in the input channel
  double blocked_ms = 0;       // replicas waiting on full output channels
  double starved_ms = 0;       // replicas waiting on an empty input channel
  std::vector<ReplicaReport> per_replica;

  bool balanced() const noexcept {
    if (kind == "source") return offered == 0;  // a source's messages start here
    return offered + abandoned_in_hand == received + dropped + abandoned &&
           received == emitted + filtered + dead_lettered + failed + abandoned_in_hand;
  }
};

struct LaneWait {
  std::string stage;
  std::string lane;
  Percentiles wait;
};

struct EdgeReport {
  std::string from;   // `stage`, `stage.unmatched` or `stage.dead_letter`
  std::string to;
  std::string lane;   // empty when the stage has no lanes
  std::size_t capacity = 0;
  std::uint64_t sent = 0;  // offered on this edge: sent = delivered + dropped + abandoned
  std::uint64_t delivered = 0;
  std::uint64_t dropped = 0;
  std::uint64_t abandoned = 0;
  Percentiles wait;        // time messages spent in this edge's lane
  double blocked_ms = 0;   // senders waiting because it was full
  std::size_t depth = 0;   // messages in the lane now; edges into one lane share it (live view, metrics)
};

struct RunReport {
  std::string pipeline;
  RunStatus status = RunStatus::running;
  double duration_s = 0;
  std::vector<StageReport> stages;
  std::vector<EdgeReport> edges;
  std::string bottleneck;  // empty when no stage held the others back
  std::vector<std::string> errors;

  const StageReport* stage(std::string_view name) const noexcept {
    for (const auto& s : stages)
      if (s.name == name) return &s;
    return nullptr;
  }
  // Every stage's and edge's books balance, and once the run has ended
  // without a forced stop, no acknowledgement is still pending.
  bool balanced() const noexcept;
  // The contract's JSON (with every extra key).
  std::string to_json(int indent = 2) const;
  // Reads what to_json() wrote (`weir top` reads a running pipeline's report
  // this way); the histograms' fixed buckets are not in the JSON. Throws
  // std::invalid_argument naming what is wrong.
  static RunReport from_json(std::string_view json);
  // The human summary written to stderr at the end of `weir run`, in lines
  // of at most `width` columns (a longer name, error or word excepted).
  std::string to_table(std::size_t width = 80) const;
};

}  // namespace weir
