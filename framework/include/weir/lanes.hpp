#pragma once
// weir::Lanes<T>: a priority channel made of N bounded lanes, lane 0 the
// highest. Each lane is its own lock-free ring with its own capacity (so a
// flood of low-priority items cannot take the room of high-priority ones);
// receivers park on one shared wait queue, so one wait covers every lane.
//
// Policies:
//  - strict: a receive takes from the highest non-empty lane.
//  - weighted: receives follow a smooth weighted round-robin schedule over the
//    lanes (weights 3 and 1 give lane order 0 0 1 0, repeated); when the
//    scheduled lane is empty the highest non-empty lane serves instead, so no
//    capacity is wasted and no lane with items waits more than one round.
// Closing closes every lane at once; the set is drained once every lane is
// closed and empty.

#include <weir/channel.hpp>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace weir {

template <class T>
class Lanes {
 public:
  struct Item {
    std::size_t lane;
    T value;
  };

  // Throws std::invalid_argument for no lanes, a lane of capacity 0, or (for
  // weighted) a weight of 0 or weights adding up to more than 65536.
  Lanes(std::vector<LaneConfig> lanes, LanePolicy policy, std::size_t writers = 1)
      : policy_(policy), writers_(writers) {
    if (lanes.empty()) throw std::invalid_argument("weir: a lane set needs at least one lane");
    lanes_.reserve(lanes.size());
    for (const auto& config : lanes) lanes_.push_back(std::make_unique<Lane>(config.capacity));
    if (policy_ == LanePolicy::weighted) schedule_ = weighted_schedule(lanes);
  }

  Lanes(const Lanes&) = delete;
  Lanes& operator=(const Lanes&) = delete;

  std::size_t lane_count() const noexcept { return lanes_.size(); }

  // Precondition for every lane argument: lane < lane_count().
  SendStatus try_send(std::size_t lane, T&& value) noexcept {
    assert(lane < lanes_.size());
    switch (lanes_[lane]->ring.try_push(value)) {
      case detail::PushResult::ok: receivers_.notify_one(); return SendStatus::ok;
      case detail::PushResult::full: return SendStatus::full;
      case detail::PushResult::closed: break;
    }
    return SendStatus::closed;
  }

  // Parks while the lane is full; false once closed (then `value` is untouched).
  bool send(std::size_t lane, T&& value) { return send_before(lane, value, detail::no_deadline) == SendStatus::ok; }
  bool send(std::size_t lane, const T& value) {
    T copy(value);
    return send(lane, std::move(copy));
  }

  // ok / closed / timeout; on closed or timeout `value` is untouched.
  SendStatus send_for(std::size_t lane, T&& value, std::chrono::nanoseconds timeout) {
    return send_before(lane, value, detail::deadline_after(timeout));
  }

  // nullopt when every lane is empty right now (is_drained() tells closed).
  std::optional<Item> try_recv() noexcept {
    std::optional<Item> item;
    attempt_recv(item);
    return item;
  }

  // The oldest item of one lane, whatever the policy; nullopt when that lane
  // is empty. For a sender that makes room in its own lane (drop_oldest).
  std::optional<Item> try_recv(std::size_t lane) noexcept {
    assert(lane < lanes_.size());
    std::optional<Item> item;
    bool drained = false;
    auto sink = [&item](std::size_t from, T&& value) noexcept { item.emplace(Item{from, std::move(value)}); };
    take(lane, 1, sink, drained);
    return item;
  }

  // Parks while every lane is empty; nullopt once closed and drained.
  std::optional<Item> recv() {
    std::optional<Item> item;
    wait_to_recv([&]() noexcept { return attempt_recv(item); });
    return item;
  }

  // nullopt on timeout or once closed and drained; is_drained() tells which.
  std::optional<Item> recv_for(std::chrono::nanoseconds timeout) {
    std::optional<Item> item;
    wait_to_recv([&]() noexcept { return attempt_recv(item); }, detail::deadline_after(timeout));
    return item;
  }

  // Parks until at least one item is available, then appends up to `max` to
  // `out`, in the order the policy gives. Returns 0 once closed and drained.
  std::size_t recv_batch(std::vector<Item>& out, std::size_t max) {
    return recv_batch(out, max, []() noexcept { return false; });
  }

  // As above, and also returns 0, taking nothing, once `interrupted()` is
  // true. It is asked before every look at the lanes, the last time after
  // this receiver is queued to park; so a thread that makes it true (by a
  // seq_cst write of what it reads, with a seq_cst read) and then calls
  // wake_receivers() always reaches this receiver, parked or not. That is an
  // out-of-band signal: it never waits for room in a lane.
  template <class Interrupted>
  std::size_t recv_batch(std::vector<Item>& out, std::size_t max, Interrupted&& interrupted) {
    if (max == 0) return 0;
    out.reserve(out.size() + max);  // before claiming anything: nothing may throw after
    std::size_t received = 0;
    wait_to_recv([&]() noexcept {
      if (interrupted()) return true;
      bool drained = false;
      received = collect(max, [&out](std::size_t lane, T&& value) noexcept { out.push_back(Item{lane, std::move(value)}); },
                         drained);
      return received != 0 || drained;
    });
    return received;
  }

  // Wakes every parked receiver, with nothing sent: see recv_batch's `interrupted`.
  void wake_receivers() noexcept { receivers_.notify_all(); }

  void close() noexcept {
    for (auto& lane : lanes_) lane->ring.close();
    receivers_.notify_all();
    for (auto& lane : lanes_) lane->senders.notify_all();
  }
  void add_writer() noexcept { writers_.fetch_add(1, std::memory_order_relaxed); }
  void release_writer() noexcept {
    if (writers_.fetch_sub(1, std::memory_order_acq_rel) == 1) close();
  }

  bool is_closed() const noexcept { return lanes_.front()->ring.is_closed(); }
  bool is_drained() const noexcept {
    return std::all_of(lanes_.begin(), lanes_.end(), [](const auto& lane) { return lane->ring.is_drained(); });
  }
  std::size_t size(std::size_t lane) const noexcept { return lanes_[lane]->ring.size(); }
  std::size_t capacity(std::size_t lane) const noexcept { return lanes_[lane]->ring.capacity(); }

 private:
  struct Lane {
    explicit Lane(std::size_t capacity) : ring(capacity) {}
    detail::Ring<T> ring;
    detail::WaitQueue senders;  // senders parked on this lane being full
  };

  // Smooth weighted round-robin (as in nginx's upstream balancer): each step
  // every lane gains its weight in credit and the richest lane, paying the
  // total, is picked. Spreads a lane's turns evenly through the round.
  static std::vector<std::uint32_t> weighted_schedule(const std::vector<LaneConfig>& lanes) {
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < lanes.size(); ++i) {
      if (lanes[i].weight == 0)
        throw std::invalid_argument("weir: lane " + std::to_string(i) + " has weight 0; weights must be at least 1");
      total += lanes[i].weight;
    }
    if (total > 65536)
      throw std::invalid_argument("weir: lane weights add up to " + std::to_string(total) +
                                  "; keep the total at most 65536 (only their ratios matter)");
    std::vector<std::int64_t> credit(lanes.size(), 0);
    std::vector<std::uint32_t> schedule;
    schedule.reserve(total);
    for (std::uint64_t step = 0; step < total; ++step) {
      std::size_t best = 0;
      for (std::size_t i = 0; i < lanes.size(); ++i) {
        credit[i] += lanes[i].weight;
        if (credit[i] > credit[best]) best = i;
      }
      credit[best] -= static_cast<std::int64_t>(total);
      schedule.push_back(static_cast<std::uint32_t>(best));
    }
    return schedule;
  }

  // A receiver keeps spinning while a sender of any lane is on its way, and
  // parks only when no lane has a claim in progress or is closed (see
  // detail::wait_until_done).
  template <class Attempt>
  bool wait_to_recv(Attempt&& attempt, detail::SteadyTime deadline = detail::no_deadline) noexcept {
    return detail::wait_until_done(
        receivers_, attempt, deadline,
        [this]() noexcept {
          return std::any_of(lanes_.begin(), lanes_.end(), [](const auto& lane) { return lane->senders.waking(); });
        },
        [this]() noexcept {
          return std::all_of(lanes_.begin(), lanes_.end(), [](const auto& lane) { return lane->ring.receiver_may_park(); });
        });
  }

  SendStatus send_before(std::size_t lane, T& value, detail::SteadyTime deadline) {
    assert(lane < lanes_.size());
    auto status = SendStatus::full;
    const bool done = detail::wait_until_done(
        lanes_[lane]->senders,
        [&]() noexcept {
          status = try_send(lane, std::move(value));
          return status != SendStatus::full;
        },
        deadline, [this]() noexcept { return receivers_.waking(); },
        [this, lane]() noexcept { return lanes_[lane]->ring.sender_may_park(); });
    return done ? status : SendStatus::timeout;
  }

  bool attempt_recv(std::optional<Item>& item) noexcept {
    bool drained = false;
    collect(1, [&item](std::size_t lane, T&& value) noexcept { item.emplace(Item{lane, std::move(value)}); }, drained);
    return item.has_value() || drained;
  }

  // Takes up to `count` items from one lane; sets `drained` if it is closed and empty.
  template <class Sink>
  std::size_t take(std::size_t lane, std::size_t count, Sink& sink, bool& drained) noexcept {
    const auto [n, status] =
        lanes_[lane]->ring.try_pop_batch(count, [&sink, lane](T&& value) noexcept { sink(lane, std::move(value)); });
    if (n != 0) lanes_[lane]->senders.notify(static_cast<int>(std::min<std::size_t>(n, INT_MAX)));
    drained = status == detail::PopResult::closed;
    return n;
  }

  // Takes up to `max` items in policy order, handing each to sink(lane, T&&).
  // Sets `drained` when nothing was taken because every lane is closed and empty.
  template <class Sink>
  std::size_t collect(std::size_t max, Sink&& sink, bool& drained) noexcept {
    std::size_t received = 0;
    if (policy_ == LanePolicy::strict) {
      std::size_t drained_lanes = 0;
      for (std::size_t lane = 0; lane < lanes_.size() && received < max; ++lane) {
        bool lane_drained = false;
        received += take(lane, max - received, sink, lane_drained);
        drained_lanes += lane_drained;
      }
      drained = received == 0 && drained_lanes == lanes_.size();
      return received;
    }
    while (received < max) {
      // Concurrent receivers may read the same ticket; the weights then hold
      // on average rather than per round, which is all a lane set promises.
      const auto ticket = ticket_.load(std::memory_order_relaxed);
      const auto scheduled = schedule_[ticket % schedule_.size()];
      bool lane_drained = false;
      std::size_t drained_lanes = 0;
      std::size_t got = take(scheduled, 1, sink, lane_drained);
      drained_lanes += lane_drained;
      for (std::size_t lane = 0; got == 0 && lane < lanes_.size(); ++lane) {
        if (lane == scheduled) continue;
        got = take(lane, 1, sink, lane_drained);
        drained_lanes += lane_drained;
      }
      if (got == 0) {
        drained = received == 0 && drained_lanes == lanes_.size();
        break;
      }
      ticket_.fetch_add(1, std::memory_order_relaxed);
      ++received;
    }
    return received;
  }

  std::vector<std::unique_ptr<Lane>> lanes_;
  std::vector<std::uint32_t> schedule_;  // weighted: one round of lane picks
  LanePolicy policy_;
  detail::WaitQueue receivers_;  // receivers parked on every lane being empty
  alignas(detail::cache_line) std::atomic<std::uint64_t> ticket_{0};
  alignas(detail::cache_line) std::atomic<std::size_t> writers_;
};

}  // namespace weir
