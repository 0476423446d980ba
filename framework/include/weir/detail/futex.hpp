#pragma once
// Parking primitives: a thread sleeps on a 32-bit word until another thread
// changes it and wakes it. Linux futexes give what C++20 std::atomic::wait
// lacks: an absolute deadline on the monotonic clock (for send_for/recv_for)
// and a wake count (to wake exactly as many parked receivers as items sent).

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <ctime>

#if !defined(__linux__)
#error "weir's channels park threads with Linux futexes; this platform is not supported yet"
#endif

#include <cerrno>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace weir::detail {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t),
              "the futex syscall needs std::atomic<uint32_t> to be a plain 32-bit word");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free,
              "a futex word must be lock-free so the kernel and user space see the same value");
// libstdc++ and libc++ both implement steady_clock with CLOCK_MONOTONIC, the
// clock FUTEX_WAIT_BITSET measures absolute deadlines against.
static_assert(std::chrono::steady_clock::is_steady, "deadlines are measured on the monotonic clock");

using SteadyTime = std::chrono::steady_clock::time_point;

// The sentinel deadline of an untimed wait.
inline constexpr SteadyTime no_deadline = SteadyTime::max();

inline std::uint32_t* futex_address(std::atomic<std::uint32_t>& word) noexcept {
  return reinterpret_cast<std::uint32_t*>(&word);
}

// Sleeps while `word` holds `expected`. Returns false only once `deadline` has
// passed; a wake-up, a changed word or a signal all return true, and the caller
// re-checks its condition either way.
inline bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
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

inline void futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept {
  syscall(SYS_futex, futex_address(word), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
}

inline void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept { futex_wake(word, INT_MAX); }

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
template <class Clock, class Duration>
SteadyTime to_steady(std::chrono::time_point<Clock, Duration> deadline) noexcept {
  return deadline_after(std::chrono::ceil<std::chrono::nanoseconds>(deadline - Clock::now()));
}

}  // namespace weir::detail
