#pragma once
// An eventcount: lets a thread park until "something changed" without a lock
// and without the notifier paying for a syscall when nobody is parked.
//
// Protocol (Dekker-style, both sides fence so neither misses the other):
//   waiter:   key = prepare_wait();  re-check the condition;  wait(key) or cancel_wait()
//   notifier: change the state;      notify_one()/notify(n)/notify_all()
// prepare_wait() announces the waiter and then reads the epoch; notify() makes
// the state change visible and then reads the waiter count. Either the notifier
// sees the waiter (and bumps the epoch, so the waiter's futex_wait(key) returns
// at once or is woken), or the waiter's re-check sees the new state.

#include <weir/detail/cache_line.hpp>
#include <weir/detail/futex.hpp>

#include <atomic>
#include <climits>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace weir::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

class EventCount {
 public:
  std::uint32_t prepare_wait() noexcept {
    waiters_.fetch_add(1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return epoch_.load(std::memory_order_acquire);
  }

  void cancel_wait() noexcept { waiters_.fetch_sub(1, std::memory_order_relaxed); }

  // Parks until notified after prepare_wait() returned `key`, or until the
  // deadline. Returns false on timeout. Always ends the announced wait.
  bool wait(std::uint32_t key, SteadyTime deadline = no_deadline) noexcept {
    const bool woken = futex_wait(epoch_, key, deadline);
    waiters_.fetch_sub(1, std::memory_order_relaxed);
    return woken;
  }

  // Wakes up to `count` parked waiters; costs one fence and one load when
  // nobody is parked, which is the steady state of a busy channel.
  void notify(int count) noexcept {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (waiters_.load(std::memory_order_relaxed) == 0) return;
    epoch_.fetch_add(1, std::memory_order_release);
    futex_wake(epoch_, count);
  }

  void notify_one() noexcept { notify(1); }
  void notify_all() noexcept { notify(INT_MAX); }

  // How long to spin before parking, adapted to what spinning achieved lately:
  // it doubles when an item showed up during the spin and halves when it did
  // not. A busy pipeline on free cores keeps its threads off the futex; an
  // oversubscribed or idle one parks almost at once instead of burning CPU
  // that the thread it waits for could use.
  std::uint32_t spin_budget() const noexcept { return spin_budget_.load(std::memory_order_relaxed); }
  void spin_succeeded() noexcept {
    const auto budget = spin_budget();
    if (budget < max_spin) spin_budget_.store(budget * 2, std::memory_order_relaxed);
  }
  void spin_failed() noexcept {
    const auto budget = spin_budget();
    if (budget > min_spin) spin_budget_.store(budget / 2, std::memory_order_relaxed);
  }

 private:
  static constexpr std::uint32_t min_spin = 4;
  static constexpr std::uint32_t max_spin = 1024;

  // The epoch is the futex word; waiters are counted separately so a notifier
  // can skip the epoch bump (a contended write) and the syscall when idle.
  alignas(cache_line) std::atomic<std::uint32_t> epoch_{0};
  std::atomic<std::uint32_t> waiters_{0};
  alignas(cache_line) std::atomic<std::uint32_t> spin_budget_{64};
  char pad_[cache_line - sizeof(std::atomic<std::uint32_t>)]{};
};

static_assert(sizeof(EventCount) == 2 * cache_line,
              "an EventCount keeps its futex word and its spin budget on lines of their own");

// Runs `attempt` until it reports success (true): first directly, then while
// spinning briefly, then parked on `events` between attempts. Returns false if
// `deadline` passes first. `attempt` must be the complete operation (it also
// recognises "closed" as success) so that no wake-up is ever ignored.
template <class Attempt>
bool wait_until_done(EventCount& events, Attempt&& attempt, SteadyTime deadline = no_deadline) noexcept {
  if (attempt()) return true;
  const auto budget = events.spin_budget();
  for (std::uint32_t i = 0; i < budget; ++i) {
    cpu_relax();
    if (attempt()) {
      events.spin_succeeded();
      return true;
    }
  }
  events.spin_failed();
  for (;;) {
    const auto key = events.prepare_wait();
    if (attempt()) {
      events.cancel_wait();
      return true;
    }
    const bool woken = events.wait(key, deadline);
    // One more attempt even after a timeout: a wake-up that raced with the
    // timeout may have been meant for this thread.
    if (attempt()) return true;
    if (!woken || (deadline != no_deadline && std::chrono::steady_clock::now() >= deadline)) return false;
  }
}

}  // namespace weir::detail
