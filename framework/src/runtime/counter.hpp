#pragma once
// A counter written by one thread and read by any: a relaxed load and store,
// not a read-modify-write, because only its owner (one replica's thread)
// writes it, so no increment can be lost and no locked instruction is paid
// per message. Readers (the report, a metrics scrape) see a recent value.

#include <atomic>
#include <cstdint>

namespace weir::runtime {

class Counter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

}  // namespace weir::runtime
