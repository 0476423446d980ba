#pragma once
#include <weir/detail/internal.hpp>  // stops a direct include from outside weir
// Internal to weir: included by weir's public headers, never by users (see
// docs/architecture.md, "Public headers and internals").
// Parking for channel threads: a FIFO of parked waiters, each sleeping on a
// parking word of its own (detail/park.hpp), and the spin-then-park loop built on it.
//
// Protocol (Dekker-style; neither side can miss the other), with no fence on
// either side: every access that decides it is sequentially consistent.
//   waiter:   enqueue()  (a seq_cst increment of the waiter count);
//             re-check the condition, then ask the caller's may_park(), which
//             reads the other side's claim word (seq_cst); park() or cancel()
//   notifier: claim with a seq_cst CAS, do the work (publish the item, free
//             the slot), then notify(): a seq_cst load of the waiter count
// In the single total order of seq_cst operations either the notifier's
// claim comes before the waiter's read of the claim word (the waiter sees
// it and does not park), or the waiter's increment comes before the
// notifier's load of the count (the notifier wakes it). A claim whose work
// is still under way makes may_park() false: the waiter waits it out
// without parking (it takes a few instructions, unless the claimant's thread
// was preempted just then; the waiter yields its CPU meanwhile). A store-load
// fence would serve too, but a notifier runs it on every send and receive
// and it waits for the store buffer to drain (what that cost:
// docs/performance.md, "What changed, and why", item 4).
//
// A notifier unlinks the waiters it wakes. That is what keeps a busy channel
// cheap: once the parked receiver has been woken, later sends see an empty
// queue and make no syscall, even before the woken thread gets to run. (An
// eventcount whose waiters deregister themselves makes every send between the
// wake-up and the moment the woken thread runs pay a park_wake.)
//
// A waiter that was picked but leaves without using the wake-up (it found an
// item on its own re-check, or its deadline passed while it was still
// queued) hands the wake-up on to the next waiter, so a wake-up is never
// absorbed by a thread that no longer needs it. (One that did wake, found
// nothing and then ran out of time leaves it unused: what it was woken for
// has already been taken by someone else.)

#include <weir/detail/cache_line.hpp>
#include <weir/detail/park.hpp>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>

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

class WaitQueue {
 public:
  // One parked thread; lives on that thread's stack for the duration of a wait.
  class Waiter {
    friend class WaitQueue;
    std::atomic<std::uint32_t> woken_{0};  // the parking word: 1 once a notifier picked this waiter
    Waiter* next_ = nullptr;
    Waiter* prev_ = nullptr;
    bool queued_ = false;  // guarded by the queue's mutex
  };

  void enqueue(Waiter& waiter) noexcept {
    {
      std::lock_guard lock(mutex_);
      waiter.prev_ = tail_;
      if (tail_) tail_->next_ = &waiter;
      else head_ = &waiter;
      tail_ = &waiter;
      waiter.queued_ = true;
      // seq_cst: ordered against the notifier's load in notify() (see the
      // protocol above); the caller's may_park() comes after it.
      count_.fetch_add(1, std::memory_order_seq_cst);
    }
  }

  // Sleeps until notified or until the deadline. Returns true if notified.
  bool park(Waiter& waiter, SteadyTime deadline) noexcept {
    while (waiter.woken_.load(std::memory_order_acquire) == 0)
      if (!park_wait(waiter.woken_, 0, deadline) && waiter.woken_.load(std::memory_order_acquire) == 0) return false;
    arrived();
    return true;
  }

  // Leaves the queue. If a notifier picked this waiter meanwhile, the wake-up
  // is passed on, since the caller will not use it.
  void cancel(Waiter& waiter) noexcept {
    {
      std::lock_guard lock(mutex_);
      if (waiter.queued_) {
        unlink(waiter);
        return;
      }
    }
    arrived();
    notify(1);
  }

  // Wakes up to `count` parked waiters, oldest first. The caller's claim (or
  // close) before it must be a seq_cst operation on the word the waiters'
  // may_park() reads. When nobody is parked (the steady state of a busy
  // channel) this is one load.
  void notify(int count) noexcept {
    if (count_.load(std::memory_order_seq_cst) == 0) return;
    // Waiters are marked woken under the lock: a waiter that finds itself
    // unlinked in cancel() then knows nobody will touch its (stack) memory
    // again, and may return. The syscalls happen after the lock is released,
    // in rounds of `round` so the lock is never held across one. A wake on
    // an address whose waiter has already returned is harmless: every parking
    // user tolerates spurious wake-ups.
    constexpr int round = 16;
    std::atomic<std::uint32_t>* words[round];
    while (count > 0) {
      int picked = 0;
      {
        std::lock_guard lock(mutex_);
        for (; picked < round && picked < count && head_; ++picked) {
          Waiter* waiter = head_;
          unlink(*waiter);
          // Counted before the release store: the waiter's arrived() comes
          // after its acquire load of woken_, so the count never dips below 0.
          waking_.fetch_add(1, std::memory_order_relaxed);
          waiter->woken_.store(1, std::memory_order_release);
          words[picked] = &waiter->woken_;
        }
      }
      for (int i = 0; i < picked; ++i) park_wake(*words[i], 1);
      if (picked < round) return;  // the queue ran dry
      count -= picked;
    }
  }

  // Threads woken by a notifier that have not run yet. A thread about to park
  // because of what its counterparts (the other side of the channel) have not
  // done yet keeps spinning while one of them is on its way: see wait_until_done.
  bool waking() const noexcept { return waking_.load(std::memory_order_relaxed) != 0; }

  void notify_one() noexcept { notify(1); }
  void notify_all() noexcept { notify(INT_MAX); }

  // How long to spin before parking, adapted to what spinning achieved lately:
  // it doubles when the awaited change showed up during the spin and halves
  // when it did not. A busy pipeline on free cores keeps its threads off the
  // park; an oversubscribed or idle one parks almost at once instead of
  // burning CPU that the thread it waits for could use.
  std::uint32_t spin_budget() const noexcept { return spin_budget_.load(std::memory_order_relaxed); }
  void spin_succeeded() noexcept {
    if (const auto budget = spin_budget(); budget < max_spin) spin_budget_.store(budget * 2, std::memory_order_relaxed);
  }
  void spin_failed() noexcept {
    if (const auto budget = spin_budget(); budget > min_spin) spin_budget_.store(budget / 2, std::memory_order_relaxed);
  }

 private:
  static constexpr std::uint32_t min_spin = 4;
  static constexpr std::uint32_t max_spin = 1024;

  void arrived() noexcept { waking_.fetch_sub(1, std::memory_order_relaxed); }

  void unlink(Waiter& waiter) noexcept {
    if (waiter.prev_) waiter.prev_->next_ = waiter.next_;
    else head_ = waiter.next_;
    if (waiter.next_) waiter.next_->prev_ = waiter.prev_;
    else tail_ = waiter.prev_;
    waiter.next_ = waiter.prev_ = nullptr;
    waiter.queued_ = false;
    count_.fetch_sub(1, std::memory_order_relaxed);
  }

  // Notifiers of a busy channel read count_ on every send; keep it away from
  // what the parked path writes.
  alignas(cache_line) std::atomic<std::size_t> count_{0};
  alignas(cache_line) std::mutex mutex_;
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
  alignas(cache_line) std::atomic<std::uint32_t> spin_budget_{64};
  std::atomic<int> waking_{0};
};

// What wait_until_done asks when its spin runs out: is a counterpart on its way?
struct NobodyWaking {
  bool operator()() const noexcept { return false; }
};

// What wait_until_done asks before it parks, when `attempt` reads every word
// that notifiers claim with seq_cst itself (as the tests' token counters do).
struct AlwaysMayPark {
  bool operator()() const noexcept { return true; }
};

// The longest a waiter keeps spinning for a counterpart that was woken and has
// not run yet: a few times this machine class's wake-up latency.
inline constexpr std::chrono::microseconds max_handoff_spin{50};

// Runs `attempt` until it reports success (true): first directly, then while
// spinning briefly, then parked on `waiters` between attempts. Returns false
// if `deadline` passes first. `attempt` must be the complete operation (it
// also treats "closed" as done) so that no wake-up is ever wasted.
//
// `counterpart_waking` tells whether a thread of the other side (a sender,
// for a waiting receiver) has been woken and not yet run. While one has, the
// spin goes on, in chunks of the adaptive budget, until max_handoff_spin
// after the adaptive part ran out (one chunk more at most; never past the
// deadline): what this thread waits for is on its way, and parking now would
// only make that thread pay a park_wake for us in turn. Without this, a small channel between two fast threads falls into a
// convoy: the receiver drains the ring while the woken sender is still being
// scheduled, parks, and the two take turns parking and waking each other for
// every ring-full of items.
//
// `may_park` is asked after the waiter is queued and its re-check failed: it
// reads the claim word of the other side with seq_cst and says whether the
// wait can only end by a notify (nothing claimed and unfinished, not closed).
template <class Attempt, class Waking = NobodyWaking, class MayPark = AlwaysMayPark>
bool wait_until_done(WaitQueue& waiters, Attempt&& attempt, SteadyTime deadline = no_deadline,
                     Waking&& counterpart_waking = Waking{}, MayPark&& may_park = MayPark{}) noexcept {
  if (attempt()) return true;
  const auto budget = waiters.spin_budget();
  std::uint32_t end = budget;
  SteadyTime handoff_until{};
  for (std::uint32_t i = 0; i < end; ++i) {
    cpu_relax();
    if (attempt()) {
      // Only the adaptive part adapts: success during a hand-off says
      // nothing about how long this queue's waits usually are.
      if (i < budget) waiters.spin_succeeded();
      return true;
    }
    if (i + 1 == end && counterpart_waking()) {
      const auto now = std::chrono::steady_clock::now();
      if (handoff_until == SteadyTime{}) handoff_until = now + max_handoff_spin;
      if (now < handoff_until && now < deadline) end += budget;
    }
  }
  waiters.spin_failed();
  // A waiter that was woken and then leaves without success (its deadline)
  // passes one wake-up on: the item it was woken for may still be there,
  // behind an earlier one that was claimed and not yet published when it
  // looked, and nobody else would wake for it.
  bool woken = false;
  const auto give_up = [&]() noexcept {
    if (woken) waiters.notify(1);
    return false;
  };
  for (;;) {
    WaitQueue::Waiter waiter;
    waiters.enqueue(waiter);
    if (attempt()) {
      waiters.cancel(waiter);
      return true;
    }
    if (!may_park()) {
      // A claim is under way (an item being written, a slot being freed) or
      // the close: it ends without a notify meant for us. Let its thread
      // run, off the queue (and its mutex), until there is nothing left to
      // wait out; then queue again and re-check before parking.
      waiters.cancel(waiter);
      do {
        std::this_thread::yield();
        if (attempt()) return true;
        if (deadline != no_deadline && std::chrono::steady_clock::now() >= deadline) return give_up();
      } while (!may_park());
      continue;
    }
    if (!waiters.park(waiter, deadline)) {
      // Deadline passed while still queued; one last look before giving up.
      waiters.cancel(waiter);
      return attempt() || give_up();
    }
    woken = true;
    if (attempt()) return true;
    if (deadline != no_deadline && std::chrono::steady_clock::now() >= deadline) return give_up();
  }
}

}  // namespace weir::detail
