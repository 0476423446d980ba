// The parking layer under the channels: every wake-up reaches a thread that
// uses it or is handed on, and every thread a notifier woke is counted as
// arrived again — a count left above zero would make every later waiter of
// the other side spin for the hand-off limit before parking.

// A test of the internals: it opens the door detail/internal.hpp keeps shut.
#define WEIR_DETAIL_INCLUDE_OK 1
#include <weir/detail/wait_queue.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <ctime>
#include <thread>
#include <vector>

using weir::detail::WaitQueue;
using weir::detail::wait_until_done;
using namespace std::chrono_literals;

namespace {

double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// Tokens handed out one per notify; a waiter's attempt takes one if any.
struct Tokens {
  std::atomic<int> available{0};
  bool take() noexcept {
    for (int now = available.load(); now > 0;)
      if (available.compare_exchange_weak(now, now - 1)) return true;
    return false;
  }
};

}  // namespace

TEST_CASE("each notify wakes a parked waiter, and the woken are counted back", "[channel][wait_queue]") {
  WaitQueue queue;
  Tokens tokens;
  constexpr int waiters = 4;
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < waiters; ++i)
    threads.emplace_back([&] {
      wait_until_done(queue, [&]() noexcept { return tokens.take(); });
      ++done;
    });
  std::this_thread::sleep_for(20ms);  // parking is likely by now; the test holds either way
  for (int i = 0; i < waiters; ++i) {
    tokens.available.fetch_add(1);
    queue.notify_one();
  }
  for (auto& thread : threads) thread.join();
  REQUIRE(done == waiters);
  REQUIRE(tokens.available == 0);
  REQUIRE_FALSE(queue.waking());
}

TEST_CASE("wake-ups racing with deadlines are handed on and counted back", "[channel][wait_queue]") {
  WaitQueue queue;
  Tokens tokens;
  constexpr int waiters = 4;
  constexpr int per_waiter = 200;
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < waiters; ++i)
    threads.emplace_back([&] {
      // Short deadlines, so wake-ups land on waiters that are just giving up
      // (the cancel path) as well as on parked ones.
      while (taken.load() < waiters * per_waiter)
        if (wait_until_done(queue, [&]() noexcept { return tokens.take(); }, std::chrono::steady_clock::now() + 50us))
          ++taken;
    });
  for (int i = 0; i < waiters * per_waiter; ++i) {
    tokens.available.fetch_add(1);
    queue.notify_one();
    if (i % 16 == 0) std::this_thread::sleep_for(100us);
  }
  for (auto& thread : threads) thread.join();
  REQUIRE(taken == waiters * per_waiter);
  REQUIRE_FALSE(queue.waking());
}

TEST_CASE("the spin for a counterpart on its way is bounded: the waiter still parks", "[channel][wait_queue]") {
  // A counterpart stuck "on its way" (the flag never clears) must not keep a
  // waiter spinning: after max_handoff_spin it parks, so a 300 ms wait costs
  // microseconds of CPU, not 300 ms. The bound is three orders of magnitude
  // loose, and thread CPU time does not grow when the machine is busy.
  WaitQueue queue;
  Tokens tokens;
  double cpu_seconds = 0;
  bool finished = true;
  std::thread waiter([&] {
    const auto cpu_before = thread_cpu_seconds();
    finished = wait_until_done(queue, [&]() noexcept { return tokens.take(); },
                               std::chrono::steady_clock::now() + 300ms, []() noexcept { return true; });
    cpu_seconds = thread_cpu_seconds() - cpu_before;
  });
  waiter.join();
  REQUIRE_FALSE(finished);  // nothing was ever sent: the deadline ends the wait
  REQUIRE(cpu_seconds < 0.1);
  REQUIRE_FALSE(queue.waking());
}
