#pragma once
#include <weir/detail/internal.hpp>  // stops a direct include from outside weir
// Internal to weir: included by weir's public headers, never by users (see
// docs/architecture.md, "Public headers and internals").
//
// Parking primitives: a thread sleeps on a 32-bit word until another thread
// changes it and wakes it. Two implementations with one contract:
//   - Linux futexes (the default on Linux): what C++20 std::atomic::wait
//     lacks, an absolute deadline on the monotonic clock (for send_for and
//     recv_for) and a wake count (to wake exactly as many parked receivers as
//     items sent), with no lock and no allocation;
//   - a portable parking lot (elsewhere, or on Linux with the CMake option
//     WEIR_PORTABLE_PARKING): a fixed table of mutex + condition variable
//     buckets chosen by the word's address.
// The contract both keep: park_wait returns at once if the word no longer
// holds `expected`; a park_wake after the word was changed reaches every
// thread that saw the old value; wake-ups may be spurious, so callers always
// re-check their condition.

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>

#if !defined(__linux__) && !defined(WEIR_PORTABLE_PARKING)
#define WEIR_PORTABLE_PARKING 1
#endif

#if defined(WEIR_PORTABLE_PARKING)
#include <condition_variable>
#include <cstddef>
#include <mutex>
#else
#include <cerrno>
#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace weir::detail {

// libstdc++ and libc++ both implement steady_clock with CLOCK_MONOTONIC, the
// clock FUTEX_WAIT_BITSET measures absolute deadlines against.
static_assert(std::chrono::steady_clock::is_steady, "deadlines are measured on the monotonic clock");

using SteadyTime = std::chrono::steady_clock::time_point;

// The sentinel deadline of an untimed wait.
inline constexpr SteadyTime no_deadline = SteadyTime::max();

#if defined(WEIR_PORTABLE_PARKING)

// One bucket per cache line so threads parked on different words rarely
// contend; words that share a bucket only see spurious wake-ups.
struct alignas(64) ParkingBucket {
  std::mutex mutex;
  std::condition_variable parked;
};

inline ParkingBucket& parking_bucket(const std::atomic<std::uint32_t>& word) noexcept {
  static ParkingBucket buckets[64];
  const auto address = reinterpret_cast<std::uintptr_t>(&word);
  return buckets[(address >> 4) % 64];
}

// The waker changes the word before it takes the bucket's lock, and the
// waiter checks the word under that lock: either the waiter sees the new
// value, or it is already waiting on the condition variable when the waker
// notifies it. No wake-up is lost.
inline bool park_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                      SteadyTime deadline = no_deadline) noexcept {
  ParkingBucket& bucket = parking_bucket(word);
  std::unique_lock lock(bucket.mutex);
  if (word.load(std::memory_order_acquire) != expected) return true;
  if (deadline == no_deadline) {
    bucket.parked.wait(lock);
    return true;
  }
  return bucket.parked.wait_until(lock, deadline) == std::cv_status::no_timeout ||
         std::chrono::steady_clock::now() < deadline;
}

// A bucket is shared by many words, so every thread parked on it is woken
// and the ones whose word did not change park again: `count` cannot be kept.
inline void park_wake(std::atomic<std::uint32_t>& word, int /*count*/) noexcept {
  ParkingBucket& bucket = parking_bucket(word);
  { std::lock_guard lock(bucket.mutex); }
  bucket.parked.notify_all();
}

#else

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t),
              "the futex syscall needs std::atomic<uint32_t> to be a plain 32-bit word");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free,
              "a futex word must be lock-free so the kernel and user space see the same value");

inline std::uint32_t* futex_address(std::atomic<std::uint32_t>& word) noexcept {
  return reinterpret_cast<std::uint32_t*>(&word);
}

// Sleeps while `word` holds `expected`. Returns false only once `deadline` has
// passed; a wake-up, a changed word or a signal all return true, and the caller
// re-checks its condition either way.
inline bool park_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                      SteadyTime deadline = no_deadline) noexcept {
  if (deadline == no_deadline) {
    syscall(SYS_futex, futex_address(word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
    return true;
  }
  const auto since_epoch = deadline.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  if (seconds.count() < 0) return false;
  timespec absolute{};
  absolute.tv_sec = static_cast<time_t>(seconds.count());
  absolute.tv_nsec = static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds).count());
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, so a wait that is
  // interrupted and resumed never stretches the deadline.
  const long rc = syscall(SYS_futex, futex_address(word), FUTEX_WAIT_BITSET_PRIVATE, expected, &absolute,
                          nullptr, FUTEX_BITSET_MATCH_ANY);
  return !(rc == -1 && errno == ETIMEDOUT);
}

inline void park_wake(std::atomic<std::uint32_t>& word, int count) noexcept {
  syscall(SYS_futex, futex_address(word), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
}

#endif

inline void park_wake_all(std::atomic<std::uint32_t>& word) noexcept { park_wake(word, INT_MAX); }

// A deadline `timeout` from now. Timeouts too large to represent mean
// "forever" and saturate to the untimed wait instead of overflowing.
inline SteadyTime deadline_after(std::chrono::nanoseconds timeout) noexcept {
  const auto now = std::chrono::steady_clock::now();
  if (timeout <= std::chrono::nanoseconds::zero()) return now;
  if (timeout >= no_deadline - now) return no_deadline;
  return now + timeout;
}

// Converts a deadline on any clock into one on the monotonic clock, once, the
// way std::condition_variable does for foreign clocks.
template <class DeadlineClock, class Duration>
SteadyTime to_steady(std::chrono::time_point<DeadlineClock, Duration> deadline) noexcept {
  return deadline_after(std::chrono::ceil<std::chrono::nanoseconds>(deadline - DeadlineClock::now()));
}

}  // namespace weir::detail
