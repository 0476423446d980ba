#pragma once
// weir::Channel<T>: the bounded multi-producer multi-consumer channel that links
// neighbouring stages.
//
// Data path: lock-free, a Vyukov ring with one sequence number per slot (see
// detail/ring.hpp); a send or receive is one CAS plus one release store, and a
// batch of n is one CAS plus n stores. No allocation after construction.
// Waiting: a blocked send/recv retries while spinning for an adaptive while,
// then parks on a queue of parked waiters (detail/wait_queue.hpp, detail/park.hpp). Notifying
// costs one load when nobody is parked (no fence: the claim CAS orders it), so
// a busy channel makes no syscall per message.
// Closing: close() (or the last release_writer()) makes later sends fail;
// receivers still get every item sent before, then see "closed"; every parked
// thread wakes.
//
// Items must be nothrow move-constructible and nothrow destructible (checked at
// compile time); move-only items are fine.

#include <weir/status.hpp>
#include <weir/detail/cache_line.hpp>
#include <weir/detail/wait_queue.hpp>
#include <weir/detail/park.hpp>
#include <weir/detail/ring.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstddef>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace weir {

template <class T>
class Channel {
 public:
  using value_type = T;

  // Throws std::invalid_argument for capacity 0. `writers` is the number of
  // upstream writers whose release_writer() calls close the channel.
  explicit Channel(std::size_t capacity, std::size_t writers = 1) : ring_(capacity), writers_(writers) {}

  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // ok / full / closed. On full or closed `value` is untouched.
  SendStatus try_send(T&& value) noexcept {
    switch (ring_.try_push(value)) {
      case detail::PushResult::ok: receivers_.notify_one(); return SendStatus::ok;
      case detail::PushResult::full: return SendStatus::full;
      case detail::PushResult::closed: break;
    }
    return SendStatus::closed;
  }

  // Parks while full. False once closed, and then `value` is untouched.
  bool send(T&& value) { return send_before(value, detail::no_deadline) == SendStatus::ok; }
  bool send(const T& value) {
    T copy(value);
    return send(std::move(copy));
  }

  // ok / closed / timeout; on closed or timeout `value` is untouched.
  SendStatus send_for(T&& value, std::chrono::nanoseconds timeout) {
    return send_before(value, detail::deadline_after(timeout));
  }
  template <class Clock, class Duration>
  SendStatus send_until(T&& value, std::chrono::time_point<Clock, Duration> deadline) {
    return send_before(value, detail::to_steady(deadline));
  }

  // Moves as many items from the front of `items` as fit now, in order.
  std::size_t try_send_batch(std::span<T> items) noexcept {
    const auto [sent, status] = ring_.try_push_batch(items.data(), items.size());
    if (sent != 0) receivers_.notify(static_cast<int>(std::min<std::size_t>(sent, INT_MAX)));
    return sent;
  }

  // Moves every item of `items` in order, parking while full. Returns how many
  // were sent: fewer than items.size() only if the channel closed, and then
  // the rest are untouched.
  std::size_t send_batch(std::span<T> items) {
    std::size_t sent = 0;
    wait_to_send([&]() noexcept {
      const auto [n, status] = ring_.try_push_batch(items.data() + sent, items.size() - sent);
      if (n != 0) {
        sent += n;
        receivers_.notify(static_cast<int>(std::min<std::size_t>(n, INT_MAX)));
      }
      return sent == items.size() || status == detail::PushResult::closed;
    });
    return sent;
  }

  // ok / empty / closed; closed only once closed and drained.
  RecvResult<T> try_recv() noexcept {
    RecvResult<T> result{RecvStatus::empty, std::nullopt};
    attempt_recv(result);
    return result;
  }

  // Parks while empty; nullopt once closed and drained.
  std::optional<T> recv() {
    RecvResult<T> result{RecvStatus::empty, std::nullopt};
    wait_to_recv([&]() noexcept { return attempt_recv(result); });
    return std::move(result.value);
  }

  // ok / closed / timeout.
  RecvResult<T> recv_for(std::chrono::nanoseconds timeout) { return recv_before(detail::deadline_after(timeout)); }
  template <class Clock, class Duration>
  RecvResult<T> recv_until(std::chrono::time_point<Clock, Duration> deadline) {
    return recv_before(detail::to_steady(deadline));
  }

  // Appends up to `max` items available now to `out`; returns how many.
  std::size_t try_recv_batch(std::vector<T>& out, std::size_t max) {
    out.reserve(out.size() + max);
    std::size_t received = 0;
    attempt_recv_batch(out, max, received);
    return received;
  }

  // Parks until at least one item is available, then appends up to `max` to
  // `out`. Returns 0 once closed and drained (or if max is 0).
  std::size_t recv_batch(std::vector<T>& out, std::size_t max) {
    if (max == 0) return 0;
    // Reserve first: once slots are claimed nothing may throw.
    out.reserve(out.size() + max);
    std::size_t received = 0;
    wait_to_recv([&]() noexcept { return attempt_recv_batch(out, max, received); });
    return received;
  }

  // Later sends fail; receivers drain what is buffered, then see closed. Wakes
  // every parked sender and receiver. Idempotent.
  void close() noexcept {
    ring_.close();
    receivers_.notify_all();
    senders_.notify_all();
  }

  // Fan-in: each upstream writer calls release_writer() once when done; the
  // last one closes the channel.
  void add_writer() noexcept { writers_.fetch_add(1, std::memory_order_relaxed); }
  void release_writer() noexcept {
    if (writers_.fetch_sub(1, std::memory_order_acq_rel) == 1) close();
  }

  bool is_closed() const noexcept { return ring_.is_closed(); }
  // Closed, and every item sent before the close has been received.
  bool is_drained() const noexcept { return ring_.is_drained(); }
  std::size_t size() const noexcept { return ring_.size(); }  // approximate under concurrency
  std::size_t capacity() const noexcept { return ring_.capacity(); }

 private:
  // Each side keeps spinning while the other side has a thread on its way,
  // and parks only when the other side has no claim in progress (see
  // detail::wait_until_done).
  template <class Attempt>
  bool wait_to_send(Attempt&& attempt, detail::SteadyTime deadline = detail::no_deadline) noexcept {
    return detail::wait_until_done(
        senders_, attempt, deadline, [this]() noexcept { return receivers_.waking(); },
        [this]() noexcept { return ring_.sender_may_park(); });
  }
  template <class Attempt>
  bool wait_to_recv(Attempt&& attempt, detail::SteadyTime deadline = detail::no_deadline) noexcept {
    return detail::wait_until_done(
        receivers_, attempt, deadline, [this]() noexcept { return senders_.waking(); },
        [this]() noexcept { return ring_.receiver_may_park(); });
  }

  SendStatus send_before(T& value, detail::SteadyTime deadline) {
    auto status = SendStatus::full;
    const bool done = wait_to_send(
        [&]() noexcept {
          status = try_send(std::move(value));
          return status != SendStatus::full;
        },
        deadline);
    return done ? status : SendStatus::timeout;
  }

  RecvResult<T> recv_before(detail::SteadyTime deadline) {
    RecvResult<T> result{RecvStatus::empty, std::nullopt};
    if (!wait_to_recv([&]() noexcept { return attempt_recv(result); }, deadline))
      result.status = RecvStatus::timeout;
    return result;
  }

  // One non-blocking receive; true when finished (an item, or closed).
  bool attempt_recv(RecvResult<T>& result) noexcept {
    const auto [n, status] = ring_.try_pop_batch(1, [&result](T&& value) noexcept { result.value.emplace(std::move(value)); });
    if (n != 0) {
      result.status = RecvStatus::ok;
      senders_.notify_one();
      return true;
    }
    result.status = status == detail::PopResult::closed ? RecvStatus::closed : RecvStatus::empty;
    return result.status == RecvStatus::closed;
  }

  // `out` has room for `max` more items (reserved by the caller).
  bool attempt_recv_batch(std::vector<T>& out, std::size_t max, std::size_t& received) noexcept {
    const auto [n, status] = ring_.try_pop_batch(max, [&out](T&& value) noexcept { out.push_back(std::move(value)); });
    if (n != 0) {
      received = n;
      senders_.notify(static_cast<int>(std::min<std::size_t>(n, INT_MAX)));
      return true;
    }
    return status == detail::PopResult::closed;
  }

  detail::Ring<T> ring_;
  detail::WaitQueue receivers_;  // parked receivers: waiting for an item or the close
  detail::WaitQueue senders_;    // parked senders: waiting for a free slot or the close
  alignas(detail::cache_line) std::atomic<std::size_t> writers_;
};

}  // namespace weir
