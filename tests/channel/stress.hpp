#pragma once
// Shared bookkeeping for the multithreaded channel tests: items that name
// their producer and sequence number, a ledger that proves each arrived
// exactly once, and per-receiver order checks.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace weir::test {

// ThreadSanitizer slows the tests ~10x; it needs fewer items to find races,
// since it checks every interleaving it observes rather than relying on luck.
#if defined(__SANITIZE_THREAD__)
inline constexpr std::size_t stress_scale = 3;
#else
inline constexpr std::size_t stress_scale = 1;
#endif

inline std::uint64_t make_item(std::size_t producer, std::size_t seq) noexcept {
  return (std::uint64_t{producer} << 32) | seq;
}
inline std::size_t producer_of(std::uint64_t item) noexcept { return static_cast<std::size_t>(item >> 32); }
inline std::size_t seq_of(std::uint64_t item) noexcept { return static_cast<std::size_t>(item & 0xffffffffu); }

// Counts arrivals per item; every producer's items are numbered 0..per_producer.
class Ledger {
 public:
  Ledger(std::size_t producers, std::size_t per_producer)
      : per_producer_(per_producer), arrivals_(std::make_unique<std::atomic<std::uint32_t>[]>(producers * per_producer)),
        size_(producers * per_producer) {}

  void arrived(std::uint64_t item) noexcept {
    arrivals_[producer_of(item) * per_producer_ + seq_of(item)].fetch_add(1, std::memory_order_relaxed);
  }

  // Items that arrived other than exactly once, described for the failure message.
  std::string problems(std::size_t expected_per_item = 1) const {
    std::string report;
    std::size_t shown = 0;
    for (std::size_t i = 0; i < size_; ++i) {
      const auto count = arrivals_[i].load(std::memory_order_relaxed);
      if (count != expected_per_item && shown++ < 10)
        report += "item " + std::to_string(i / per_producer_) + "/" + std::to_string(i % per_producer_) + " arrived " +
                  std::to_string(count) + " times; ";
    }
    return report;
  }

  std::uint32_t count(std::size_t producer, std::size_t seq) const noexcept {
    return arrivals_[producer * per_producer_ + seq].load(std::memory_order_relaxed);
  }

 private:
  std::size_t per_producer_;
  std::unique_ptr<std::atomic<std::uint32_t>[]> arrivals_;
  std::size_t size_;
};

// One receiver's view: each producer's items must come in increasing order.
class OrderCheck {
 public:
  explicit OrderCheck(std::size_t producers) : next_(producers, 0) {}

  void saw(std::uint64_t item) {
    auto& next = next_[producer_of(item)];
    if (seq_of(item) < next && violations_.size() < 10)
      violations_ += "producer " + std::to_string(producer_of(item)) + ": " + std::to_string(seq_of(item)) +
                     " after " + std::to_string(next - 1) + "; ";
    next = seq_of(item) + 1;
  }

  const std::string& violations() const noexcept { return violations_; }

 private:
  std::vector<std::size_t> next_;
  std::string violations_;
};

// An item whose move into a channel slot takes 100 ms when `slow` is set:
// it holds its sender between claiming a slot and publishing the item, the
// window in which close() can find an item claimed but not yet there.
struct SlowMove {
  int value = 0;
  bool slow = false;
  SlowMove(int v, bool s) : value(v), slow(s) {}
  SlowMove(SlowMove&& other) noexcept : value(other.value) {
    if (other.slow) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  SlowMove& operator=(SlowMove&&) noexcept = default;
};

// close() while an item is still being written: a sender claims its slot
// and sits in SlowMove's move; three receivers wait; close() wakes them while
// the item is not there yet. `send()` sends one slow item (true if it was
// accepted), `recv()` waits up to a minute for one item (true if it got one).
// A receiver stranded by a lost wake-up returns only when its minute runs out.
// (If the sender has not claimed its slot before close(), its send fails and
// the receivers end at once: the results hold either way.)
struct InFlightClose {
  int ended_in_time = 0;  // receivers that saw the queue drained before their minute ran out
  int items = 0;
  bool sent = false;
};

template <class Queue, class Send, class Recv>
InFlightClose close_with_item_in_flight(Queue& queue, Send send, Recv recv) {
  using namespace std::chrono_literals;
  std::atomic<bool> sent{false};
  std::thread sender([&] { sent = send(); });
  std::this_thread::sleep_for(20ms);
  std::atomic<int> items{0};
  std::atomic<int> ended_in_time{0};
  std::thread receivers[3];
  for (auto& receiver : receivers)
    receiver = std::thread([&] {
      const auto began = std::chrono::steady_clock::now();
      while (recv()) ++items;
      ended_in_time += queue.is_drained() && std::chrono::steady_clock::now() - began < 60s;
    });
  std::this_thread::sleep_for(20ms);
  queue.close();
  sender.join();
  for (auto& receiver : receivers) receiver.join();
  return {ended_in_time.load(), items.load(), sent.load()};
}

}  // namespace weir::test
