#pragma once
#include <weir/detail/internal.hpp>  // stops a direct include from outside weir
// Internal to weir: included by weir's public headers, never by users (see
// docs/architecture.md, "Public headers and internals").
// What Channel and Lanes share, written once: a lane (a ring and the senders
// parked on it being full), sending to a lane, taking from a lane, the
// receivers' wait over every lane, closing, and the fan-in writer count.
// Channel is a set of one lane; Lanes a set of N whose receivers park on one
// queue, so one wait covers every lane.
//
// The data path is the ring's (detail/ring.hpp); how a blocked sender or
// receiver parks without missing a wake-up is the wait queue's
// (detail/wait_queue.hpp). This file only wires the two together: a send
// wakes a parked receiver, a receive wakes as many parked senders of that
// lane as it freed slots, and close() wakes everyone.

#include <weir/detail/cache_line.hpp>
#include <weir/detail/park.hpp>
#include <weir/detail/ring.hpp>
#include <weir/detail/wait_queue.hpp>
#include <weir/status.hpp>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstddef>
#include <optional>
#include <utility>

namespace weir::detail {

template <class T>
struct Lane {
  explicit Lane(std::size_t capacity) : ring(capacity) {}
  Ring<T> ring;
  WaitQueue senders;  // senders parked on this lane being full
};

// A count of items as a count of threads to wake.
inline int wake_count(std::size_t items) noexcept { return static_cast<int>(std::min<std::size_t>(items, INT_MAX)); }

// The shared part of Channel (Derived = Channel<T>) and Lanes (Lanes<T>).
// Derived provides lane_count() and lane(i), a Lane<T>& for i < lane_count().
template <class T, class Derived>
class LaneSet {
 public:
  LaneSet(const LaneSet&) = delete;
  LaneSet& operator=(const LaneSet&) = delete;

  // Later sends fail; receivers drain what is buffered, then see closed. Wakes
  // every parked sender and receiver. Idempotent. Every lane is closed before
  // anyone is woken, so a woken receiver never finds one lane still open.
  void close() noexcept {
    for (std::size_t i = 0; i < self().lane_count(); ++i) self().lane(i).ring.close();
    receivers_.notify_all();
    for (std::size_t i = 0; i < self().lane_count(); ++i) self().lane(i).senders.notify_all();
  }

  // Fan-in: each upstream writer calls release_writer() once when done; the
  // last one closes.
  void add_writer() noexcept { writers_.fetch_add(1, std::memory_order_relaxed); }
  void release_writer() noexcept {
    if (writers_.fetch_sub(1, std::memory_order_acq_rel) == 1) close();
  }

  bool is_closed() const noexcept { return self().lane(0).ring.is_closed(); }
  // Closed, and every item sent before the close has been received.
  bool is_drained() const noexcept {
    for (std::size_t i = 0; i < self().lane_count(); ++i)
      if (!self().lane(i).ring.is_drained()) return false;
    return true;
  }

 protected:
  explicit LaneSet(std::size_t writers) noexcept : writers_(writers) {}
  ~LaneSet() = default;

  // ok / full / closed: moves `value` into `lane` if it fits now (only then),
  // and wakes a parked receiver.
  SendStatus try_send_to(Lane<T>& lane, T& value) noexcept {
    const SendStatus status = lane.ring.try_push(value);
    if (status == SendStatus::ok) receivers_.notify_one();
    return status;
  }
  // ok / full / closed: builds the item from make() in `lane` if it fits now
  // (make() runs only then), and wakes a parked receiver.
  template <class Make>
  SendStatus try_emplace_to(Lane<T>& lane, Make&& make) noexcept {
    const SendStatus status = lane.ring.try_emplace(make);
    if (status == SendStatus::ok) receivers_.notify_one();
    return status;
  }
  // Moves as many of items[0..count) into `lane` as fit now, in order, and
  // wakes that many parked receivers.
  BatchResult<SendStatus> try_send_batch_to(Lane<T>& lane, T* items, std::size_t count) noexcept {
    const auto sent = lane.ring.try_push_batch(items, count);
    if (sent.count != 0) receivers_.notify(wake_count(sent.count));
    return sent;
  }

  // ok / closed / timeout; parks while the lane is full. On closed or timeout
  // `value` is untouched.
  SendStatus send_to(Lane<T>& lane, T& value, SteadyTime deadline) noexcept {
    auto status = SendStatus::full;
    const bool done = wait_to_send(
        lane,
        [&]() noexcept {
          status = try_send_to(lane, value);
          return status != SendStatus::full;
        },
        deadline);
    return done ? status : SendStatus::timeout;
  }

  // Takes up to `max` items from `lane` in order, handing each to
  // sink(T&&) noexcept, and wakes that many of the lane's parked senders.
  template <class Sink>
  BatchResult<RecvStatus> take_from(Lane<T>& lane, std::size_t max, Sink&& sink) noexcept {
    const auto taken = lane.ring.try_pop_batch(max, sink);
    if (taken.count != 0) lane.senders.notify(wake_count(taken.count));
    return taken;
  }

  // One receive in the derived class's order: R is what it receives (T, or
  // Lanes' Item), and Derived::attempt_recv(RecvResult<R>&) noexcept makes
  // one non-blocking attempt, true when done (ok, or closed and drained).
  template <class R>
  RecvResult<R> try_receive() noexcept {
    RecvResult<R> result{RecvStatus::empty, std::nullopt};
    self().attempt_recv(result);
    return result;
  }
  // ok / closed / timeout; parks while every lane is empty.
  template <class R>
  RecvResult<R> receive(SteadyTime deadline) noexcept {
    RecvResult<R> result{RecvStatus::empty, std::nullopt};
    if (!wait_to_recv([&]() noexcept { return self().attempt_recv(result); }, deadline))
      result.status = RecvStatus::timeout;
    return result;
  }

  // Runs `attempt` until it is done, parking on the lane's senders' queue in
  // between. A sender keeps spinning while a receiver is on its way, and parks
  // only when no receiver has a claim in progress (see wait_until_done).
  template <class Attempt>
  bool wait_to_send(Lane<T>& lane, Attempt&& attempt, SteadyTime deadline) noexcept {
    return wait_until_done(
        lane.senders, attempt, deadline, [this]() noexcept { return receivers_.waking(); },
        [&lane]() noexcept { return lane.ring.sender_may_park(); });
  }

  // The same for receivers, over every lane: spin while a sender of any lane
  // is on its way; park only when no lane has a claim in progress or is closed.
  template <class Attempt>
  bool wait_to_recv(Attempt&& attempt, SteadyTime deadline = no_deadline) noexcept {
    return wait_until_done(
        receivers_, attempt, deadline,
        [this]() noexcept {
          for (std::size_t i = 0; i < self().lane_count(); ++i)
            if (self().lane(i).senders.waking()) return true;
          return false;
        },
        [this]() noexcept {
          for (std::size_t i = 0; i < self().lane_count(); ++i)
            if (!self().lane(i).ring.receiver_may_park()) return false;
          return true;
        });
  }

  WaitQueue receivers_;  // receivers parked on every lane being empty

 private:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
  const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }

  alignas(cache_line) std::atomic<std::size_t> writers_;
};

}  // namespace weir::detail
