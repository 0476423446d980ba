#pragma once
// Routing: how what a replica produces reaches the stages that take it. A
// message goes to every broadcast route, to the conditional routes it
// matches, to the `.unmatched` routes when it matched none, and into the
// lane of the target's queue its condition picks; the target's when_full
// decides what a full queue does. A message that failed goes to the
// dead-letter route, or is counted as failed.
//
// Inline: route() and send() run for every message, inside the replica
// loops (replica_loop.cpp), and are compiled into them.

#include "graph.hpp"
#include "run_state.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

namespace weir::runtime {

inline std::uint64_t ns_between(Clock::time_point from, Clock::time_point to) noexcept {
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, (to - from).count()));
}

// Sends what one replica produces to every consumer that takes it, and keeps
// that replica's side of the books.
class Sender {
 public:
  Sender(RunState& run, StageRuntime& stage, Replica& replica) : run_(run), stage_(stage), replica_(replica) {}

  // Gives a message without one its id (from a block of ids taken at once,
  // so replicas do not contend on the counter) and its entry time.
  // `now` is the caller's reading of the clock: one reading serves the stamp,
  // the routing and the latency record around it (in a VM a clock read costs
  // tens of nanoseconds, a good part of a message's whole trip).
  void stamp(Message& message, Clock::time_point now) {
    if (message.id == 0) {
      if (next_id_ == end_id_) {
        next_id_ = run_.next_id.fetch_add(ids_per_block, std::memory_order_relaxed);
        end_id_ = next_id_ + ids_per_block;
      }
      message.id = next_id_++;
    }
    if (message.entered == Clock::time_point{}) message.entered = now;
  }

  // Broadcast to plain consumers, to the conditional ones that match, and to
  // the `.unmatched` ones when no conditional consumer matched.
  void route(Message&& message, Clock::time_point now) {
    if (stage_.tap->tapped()) stage_.tap->offer(message);
    // Every target but the last gets a copy and the last the message itself,
    // so a target is sent to once the next one is known: no list of targets
    // is built, and a straight line (one route) copies nothing.
    const Route* pending = nullptr;
    std::uint64_t targets = 0;
    const auto take = [&](const Route& route) {
      if (pending) send(*pending, Message(message), now);
      pending = &route;
      ++targets;
    };
    bool matched = false;
    for (const Route& route : stage_.routes) {
      switch (route.delivery) {
        case Route::Delivery::conditional:
          if (route.when->matches(message)) {
            take(route);
            matched = true;
          }
          break;
        case Route::Delivery::broadcast: take(route); break;
        case Route::Delivery::unmatched:
          if (!matched) take(route);
          break;
        case Route::Delivery::dead_letter: break;
      }
    }
    if (!pending) {
      replica_.unrouted.add();
      // This copy ends here, not when the caller reuses its storage: an
      // acknowledgement (a request waiting for its reply) learns it now.
      message.ack.reset();
      return;
    }
    replica_.outputs.add(targets);
    send(*pending, std::move(message), now);
  }

  void send(const Route& route, Message&& message, Clock::time_point now) {
    StageRuntime& target = *route.target;
    const std::size_t lane = pick_lane(target, message);
    const std::uint32_t edge = route.edge_of_lane[lane];
    EdgeCounters& counters = replica_.sent[route.output_of_lane[lane]];
    InputEdge& input = *target.inputs[edge];
    Queue& queue = *target.queue;
    counters.sent.add();
    // Built in its slot when there is room (the common case), so the message
    // is moved once, not into an envelope and then into the queue.
    SendStatus status = queue.try_emplace(lane, [&]() noexcept { return Envelope{std::move(message), now, edge}; });
    if (status == SendStatus::ok) return;
    Envelope envelope{std::move(message), now, edge};

    switch (target.spec->when_full) {
      case WhenFull::block: {
        if (status == SendStatus::closed) break;
        const auto parked = Clock::now();
        const bool sent = queue.send(lane, std::move(envelope));
        const auto waited = ns_between(parked, Clock::now());
        counters.blocked_ns.add(waited);
        replica_.blocked_ns.add(waited);
        if (sent) return;
        break;
      }
      case WhenFull::drop_newest: {
        if (status == SendStatus::full) {
          input.dropped.fetch_add(1, std::memory_order_relaxed);
          fail_copy(envelope.message, AckFailure::dropped, "dropped: the channel was full (when_full: drop_newest)");
          return;
        }
        break;
      }
      case WhenFull::drop_oldest: {
        while (status == SendStatus::full) {
          // Room in this message's own lane; none taken if a receiver made
          // room meanwhile.
          if (auto oldest = queue.try_recv(lane)) {
            target.inputs[oldest->value.edge]->dropped.fetch_add(1, std::memory_order_relaxed);
            fail_copy(oldest->value.message, AckFailure::dropped,
                      "dropped: the channel was full (when_full: drop_oldest)");
          }
          status = queue.try_send(lane, std::move(envelope));
        }
        if (status == SendStatus::ok) return;
        break;
      }
    }
    // Only a forced stop closes a queue that still has writers.
    input.abandoned.fetch_add(1, std::memory_order_relaxed);
    fail_copy(envelope.message, AckFailure::abandoned, abandoned_reason);
  }

  // A message that failed after its retries (routing.cpp): to the stage's
  // dead-letter stage, with the error in its attributes, or, without one,
  // counted as failed and its acknowledgement told.
  void dead_letter_or_fail(Message&& message, const std::string& error, unsigned attempts);

 private:
  static constexpr std::uint64_t ids_per_block = 4096;

  static std::size_t pick_lane(const StageRuntime& target, const Message& message) noexcept {
    const auto& conditions = target.lane_conditions;
    for (std::size_t lane = 0; lane + 1 < conditions.size(); ++lane)
      if (!conditions[lane] || conditions[lane]->matches(message)) return lane;
    return conditions.size() - 1;
  }

  RunState& run_;
  StageRuntime& stage_;
  Replica& replica_;
  std::uint64_t next_id_ = 0;
  std::uint64_t end_id_ = 0;
};

}  // namespace weir::runtime
