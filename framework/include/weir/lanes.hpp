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

#include <weir/status.hpp>

#pragma push_macro("WEIR_DETAIL_INCLUDE_OK")
#undef WEIR_DETAIL_INCLUDE_OK
#define WEIR_DETAIL_INCLUDE_OK 1
#include <weir/detail/lane.hpp>
#pragma pop_macro("WEIR_DETAIL_INCLUDE_OK")

#include <atomic>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace weir {

template <class T>
class Lanes : private detail::LaneSet<T, Lanes<T>> {
  using Base = detail::LaneSet<T, Lanes<T>>;
  friend Base;

 public:
  struct Item {
    std::size_t lane;
    T value;
  };

  // Throws std::invalid_argument for no lanes, a lane of capacity 0, or (for
  // weighted) a weight of 0 or weights adding up to more than 65536.
  Lanes(std::vector<LaneConfig> lanes, LanePolicy policy, std::size_t writers = 1)
      : Base(writers), policy_(policy) {
    if (lanes.empty()) throw std::invalid_argument("weir: a lane set needs at least one lane");
    lanes_.reserve(lanes.size());
    for (const auto& config : lanes) lanes_.push_back(std::make_unique<detail::Lane<T>>(config.capacity));
    if (policy_ == LanePolicy::weighted) schedule_ = weighted_schedule(lanes);
  }

  std::size_t lane_count() const noexcept { return lanes_.size(); }

  // Precondition for every lane argument: lane < lane_count().
  // ok / full / closed. On full or closed `value` is untouched.
  SendStatus try_send(std::size_t lane, T&& value) noexcept {
    return this->try_send_to(this->lane(lane), value);
  }

  // ok / full / closed: the item make() returns, built in place in the lane
  // if it fits now. make() runs only then, so on full or closed whatever it
  // would have moved from is untouched; it must be noexcept.
  template <class Make>
  SendStatus try_emplace(std::size_t lane, Make&& make) noexcept {
    return this->try_emplace_to(this->lane(lane), make);
  }

  // Parks while the lane is full; false once closed (then `value` is untouched).
  bool send(std::size_t lane, T&& value) noexcept {
    return this->send_to(this->lane(lane), value, detail::no_deadline) == SendStatus::ok;
  }
  bool send(std::size_t lane, const T& value) noexcept(std::is_nothrow_copy_constructible_v<T>) {
    T copy(value);
    return send(lane, std::move(copy));
  }

  // ok / closed / timeout; on closed or timeout `value` is untouched.
  SendStatus send_for(std::size_t lane, T&& value, std::chrono::nanoseconds timeout) noexcept {
    return this->send_to(this->lane(lane), value, detail::deadline_after(timeout));
  }

  // ok / empty / closed (closed only once every lane is closed and drained),
  // as Channel::try_recv.
  RecvResult<Item> try_recv() noexcept { return this->template try_receive<Item>(); }

  // The oldest item of one lane, whatever the policy: ok / empty / closed
  // (that lane closed and drained). For a sender that makes room in its own
  // lane (drop_oldest).
  RecvResult<Item> try_recv(std::size_t lane) noexcept {
    RecvResult<Item> result{RecvStatus::empty, std::nullopt};
    bool drained = false;
    auto sink = [&result](std::size_t from, T&& value) noexcept { result.value.emplace(Item{from, std::move(value)}); };
    take(lane, 1, sink, drained);
    result.status = result.value ? RecvStatus::ok : drained ? RecvStatus::closed : RecvStatus::empty;
    return result;
  }

  // Parks while every lane is empty; nullopt once closed and drained.
  std::optional<Item> recv() noexcept { return std::move(this->template receive<Item>(detail::no_deadline).value); }

  // ok / closed / timeout, as Channel::recv_for.
  RecvResult<Item> recv_for(std::chrono::nanoseconds timeout) noexcept {
    return this->template receive<Item>(detail::deadline_after(timeout));
  }

  // Parks until at least one item is available, then appends up to `max` to
  // `out`, in the order the policy gives. Returns 0 once closed and drained.
  // Throws only if `out` cannot make room for `max` more, before anything is
  // taken.
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
    this->wait_to_recv([&]() noexcept {
      if (interrupted()) return true;
      bool drained = false;
      received = collect(max, [&out](std::size_t lane, T&& value) noexcept { out.push_back(Item{lane, std::move(value)}); },
                         drained);
      return received != 0 || drained;
    });
    return received;
  }

  // Wakes every parked receiver, with nothing sent: see recv_batch's `interrupted`.
  void wake_receivers() noexcept { this->receivers_.notify_all(); }

  // close() (every lane at once), add_writer(), release_writer(), is_closed(),
  // is_drained() (every lane closed and empty): see detail::LaneSet.
  using Base::add_writer;
  using Base::close;
  using Base::is_closed;
  using Base::is_drained;
  using Base::release_writer;

  std::size_t size(std::size_t lane) const noexcept { return this->lane(lane).ring.size(); }
  std::size_t capacity(std::size_t lane) const noexcept { return this->lane(lane).ring.capacity(); }

 private:
  detail::Lane<T>& lane(std::size_t lane) noexcept {
    assert(lane < lanes_.size());
    return *lanes_[lane];
  }
  const detail::Lane<T>& lane(std::size_t lane) const noexcept {
    assert(lane < lanes_.size());
    return *lanes_[lane];
  }

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

  // One non-blocking receive in policy order; true when finished (an item,
  // or every lane closed and drained).
  bool attempt_recv(RecvResult<Item>& result) noexcept {
    bool drained = false;
    collect(1, [&result](std::size_t lane, T&& value) noexcept { result.value.emplace(Item{lane, std::move(value)}); },
            drained);
    result.status = result.value ? RecvStatus::ok : drained ? RecvStatus::closed : RecvStatus::empty;
    return result.status != RecvStatus::empty;
  }

  // Takes up to `count` items from one lane; sets `drained` if it is closed and empty.
  template <class Sink>
  std::size_t take(std::size_t lane, std::size_t count, Sink& sink, bool& drained) noexcept {
    const auto taken =
        this->take_from(this->lane(lane), count, [&sink, lane](T&& value) noexcept { sink(lane, std::move(value)); });
    drained = taken.status == RecvStatus::closed;
    return taken.count;
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

  std::vector<std::unique_ptr<detail::Lane<T>>> lanes_;
  std::vector<std::uint32_t> schedule_;  // weighted: one round of lane picks
  LanePolicy policy_;
  alignas(detail::cache_line) std::atomic<std::uint64_t> ticket_{0};
};

}  // namespace weir
