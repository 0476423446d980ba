#pragma once
// The generic cell rate algorithm behind `throttle`: `next_` is the time the
// next message is due on an ideal schedule of one per `interval`. A message's
// slot is that time less the burst tolerance; the caller waits until its slot
// (or not at all when the slot has passed). Reserving under the lock and
// waiting outside it keeps replicas fair and the lock short.
//
// A waiting thread wakes late (timer slack, a busy machine: tens of
// microseconds to milliseconds), which at 100,000 messages/s is many slots.
// Restarting the schedule at "now" would lose them every time (the rate fell
// to about 12,000/s), so the waiter reports how late it woke, and the
// schedule may lag "now" by that much (up to max_credit) while the messages
// behind it pass at once; once a reservation is ahead of "now" again, the
// lateness has been made up and the credit is gone. A quiet spell earns no
// credit: after one, at most `burst` plus 2 ms worth (catch_up) pass back to
// back.

#include <weir/message.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace weir::weir_std {

class RateBucket {
 public:
  static constexpr Clock::duration catch_up = std::chrono::milliseconds(2);
  static constexpr Clock::duration max_credit = std::chrono::milliseconds(250);

  RateBucket(double rate, std::int64_t burst)
      : interval_(std::max<Clock::duration>(
            std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate)),
            Clock::duration(1))),
        tolerance_(interval_ * (std::max<std::int64_t>(burst, 1) - 1)) {}

  // The time the message arriving at `now` may pass; at or before `now`
  // means at once.
  Clock::time_point reserve(Clock::time_point now) {
    std::lock_guard lock(mutex_);
    next_ = std::max(next_, now - catch_up - credit_);
    const Clock::time_point slot = next_ - tolerance_;
    next_ += interval_;
    if (slot > now) credit_ = Clock::duration::zero();  // on schedule again
    return slot;
  }

  // A message that waited for `slot` and woke at `woke`.
  void woke(Clock::time_point slot, Clock::time_point woke) {
    if (woke <= slot) return;
    std::lock_guard lock(mutex_);
    credit_ = std::min(credit_ + (woke - slot), max_credit);
  }

  Clock::duration interval() const noexcept { return interval_; }

 private:
  std::mutex mutex_;
  const Clock::duration interval_;
  const Clock::duration tolerance_;
  Clock::time_point next_{};
  Clock::duration credit_{};  // how far the schedule may lag: wake-up lateness not yet made up
};

}  // namespace weir::weir_std
