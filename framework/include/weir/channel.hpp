#pragma once
// weir::Channel<T>: a bounded multi-producer multi-consumer channel, for a
// host program's handles and anything else that hands items between threads.
// (Stages are linked by weir::Lanes, <weir/lanes.hpp>: several lanes, one
// wait; a Channel is the one-lane case, written with the same code.)
//
// Data path: lock-free, a Vyukov ring with one sequence number per slot; a
// send or receive is one CAS plus one release store, and a batch of n is one
// CAS plus n stores. No allocation after construction. Waiting: a blocked
// send/recv retries while spinning for an adaptive while, then parks; a
// busy channel makes no syscall per message. The protocol, and why no
// wake-up is lost, is described where it is written: detail/ring.hpp and
// detail/wait_queue.hpp (detail/lane.hpp puts them together, once for
// Channel and Lanes).
// Closing: close() (or the last release_writer()) makes later sends fail;
// receivers still get every item sent before, then see "closed"; every parked
// thread wakes.
//
// Items must be nothrow move-constructible and nothrow destructible (checked at
// compile time); move-only items are fine.

#include <weir/status.hpp>

#pragma push_macro("WEIR_DETAIL_INCLUDE_OK")
#undef WEIR_DETAIL_INCLUDE_OK
#define WEIR_DETAIL_INCLUDE_OK 1
#include <weir/detail/lane.hpp>
#pragma pop_macro("WEIR_DETAIL_INCLUDE_OK")

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace weir {

template <class T>
class Channel : private detail::LaneSet<T, Channel<T>> {
  using Base = detail::LaneSet<T, Channel<T>>;
  friend Base;

 public:
  using value_type = T;

  // Throws std::invalid_argument for capacity 0. `writers` is the number of
  // upstream writers whose release_writer() calls close the channel.
  explicit Channel(std::size_t capacity, std::size_t writers = 1) : Base(writers), lane_(capacity) {}

  // ok / full / closed. On full or closed `value` is untouched.
  SendStatus try_send(T&& value) noexcept { return this->try_send_to(lane_, value); }

  // Parks while full. False once closed, and then `value` is untouched.
  bool send(T&& value) noexcept { return this->send_to(lane_, value, detail::no_deadline) == SendStatus::ok; }
  bool send(const T& value) noexcept(std::is_nothrow_copy_constructible_v<T>) {
    T copy(value);
    return send(std::move(copy));
  }

  // ok / closed / timeout; on closed or timeout `value` is untouched.
  SendStatus send_for(T&& value, std::chrono::nanoseconds timeout) noexcept {
    return this->send_to(lane_, value, detail::deadline_after(timeout));
  }
  template <class DeadlineClock, class Duration>
  SendStatus send_until(T&& value, std::chrono::time_point<DeadlineClock, Duration> deadline) noexcept {
    return this->send_to(lane_, value, detail::to_steady(deadline));
  }

  // Moves as many items from the front of `items` as fit now, in order.
  std::size_t try_send_batch(std::span<T> items) noexcept {
    return this->try_send_batch_to(lane_, items.data(), items.size()).count;
  }

  // Moves every item of `items` in order, parking while full. Returns how many
  // were sent: fewer than items.size() only if the channel closed, and then
  // the rest are untouched.
  std::size_t send_batch(std::span<T> items) noexcept {
    std::size_t sent = 0;
    this->wait_to_send(
        lane_,
        [&]() noexcept {
          const auto moved = this->try_send_batch_to(lane_, items.data() + sent, items.size() - sent);
          sent += moved.count;
          return sent == items.size() || moved.status == SendStatus::closed;
        },
        detail::no_deadline);
    return sent;
  }

  // ok / empty / closed; closed only once closed and drained.
  RecvResult<T> try_recv() noexcept { return this->template try_receive<T>(); }

  // Parks while empty; nullopt once closed and drained.
  std::optional<T> recv() noexcept { return std::move(this->template receive<T>(detail::no_deadline).value); }

  // ok / closed / timeout.
  RecvResult<T> recv_for(std::chrono::nanoseconds timeout) noexcept {
    return this->template receive<T>(detail::deadline_after(timeout));
  }
  template <class DeadlineClock, class Duration>
  RecvResult<T> recv_until(std::chrono::time_point<DeadlineClock, Duration> deadline) noexcept {
    return this->template receive<T>(detail::to_steady(deadline));
  }

  // Appends up to `max` items available now to `out`; returns how many.
  // Throws only if `out` cannot make room for `max` more.
  std::size_t try_recv_batch(std::vector<T>& out, std::size_t max) {
    out.reserve(out.size() + max);
    std::size_t received = 0;
    attempt_recv_batch(out, max, received);
    return received;
  }

  // Parks until at least one item is available, then appends up to `max` to
  // `out`. Returns 0 once closed and drained (or if max is 0). Throws only
  // if `out` cannot make room for `max` more, before anything is taken.
  std::size_t recv_batch(std::vector<T>& out, std::size_t max) {
    if (max == 0) return 0;
    // Reserve first: once slots are claimed nothing may throw.
    out.reserve(out.size() + max);
    std::size_t received = 0;
    this->wait_to_recv([&]() noexcept { return attempt_recv_batch(out, max, received); });
    return received;
  }

  // close(), add_writer(), release_writer(), is_closed(), is_drained(): see
  // detail::LaneSet.
  using Base::add_writer;
  using Base::close;
  using Base::is_closed;
  using Base::is_drained;
  using Base::release_writer;

  std::size_t size() const noexcept { return lane_.ring.size(); }  // approximate under concurrency
  std::size_t capacity() const noexcept { return lane_.ring.capacity(); }

 private:
  static constexpr std::size_t lane_count() noexcept { return 1; }
  detail::Lane<T>& lane(std::size_t) noexcept { return lane_; }
  const detail::Lane<T>& lane(std::size_t) const noexcept { return lane_; }

  // One non-blocking receive; true when finished (an item, or closed).
  bool attempt_recv(RecvResult<T>& result) noexcept {
    result.status =
        this->take_from(lane_, 1, [&result](T&& value) noexcept { result.value.emplace(std::move(value)); }).status;
    return result.status != RecvStatus::empty;
  }

  // `out` has room for `max` more items (reserved by the caller).
  bool attempt_recv_batch(std::vector<T>& out, std::size_t max, std::size_t& received) noexcept {
    const auto taken = this->take_from(lane_, max, [&out](T&& value) noexcept { out.push_back(std::move(value)); });
    received = taken.count;
    return taken.status != RecvStatus::empty;
  }

  detail::Lane<T> lane_;
};

}  // namespace weir
