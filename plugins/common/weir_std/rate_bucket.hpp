#pragma once
// The generic cell rate algorithm behind `throttle`: `next_` is the time the
// next message is due on an ideal schedule of one per `interval`. A message's
// slot is that time less the burst tolerance; the caller waits until its slot
// (or not at all when the slot has passed). Reserving under the lock and
// waiting outside it keeps replicas fair and the lock short.
//
// A waiting thread wakes late (timer slack, scheduling: tens of microseconds
// and more), which at 100,000 messages/s is several slots. The schedule is
// therefore kept, not restarted at "now", while it lags by less than
// `catch_up`: the messages behind it pass at once until it is back, so the
// rate over any longer stretch is the configured one. Only a lag beyond
// catch_up (a quiet spell) restarts it, which lets a burst of
// `burst + catch_up * rate` messages through.

#include <weir/message.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace weir::stdp {

class RateBucket {
 public:
  static constexpr Clock::duration catch_up = std::chrono::milliseconds(2);

  RateBucket(double rate, std::int64_t burst)
      : interval_(std::max<Clock::duration>(
            std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate)),
            Clock::duration(1))),
        tolerance_(interval_ * (std::max<std::int64_t>(burst, 1) - 1)) {}

  // The time the message arriving at `now` may pass; at or before `now`
  // means at once.
  Clock::time_point reserve(Clock::time_point now) {
    std::lock_guard lock(mutex_);
    next_ = std::max(next_, now - catch_up);
    const Clock::time_point slot = next_ - tolerance_;
    next_ += interval_;
    return slot;
  }

  Clock::duration interval() const noexcept { return interval_; }

 private:
  std::mutex mutex_;
  const Clock::duration interval_;
  const Clock::duration tolerance_;
  Clock::time_point next_{};
};

}  // namespace weir::stdp
