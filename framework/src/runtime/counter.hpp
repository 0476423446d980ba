#pragma once
// A counter written by one thread and read by any: a relaxed load and store,
// not a read-modify-write, because only its owner (one replica's thread)
// writes it, so no increment can be lost and no locked instruction is paid
// per message. Readers (the report, a metrics scrape) see a recent value.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

namespace weir::runtime {

inline constexpr std::size_t line_size = 64;

// Storage in whole cache lines of its own. What one replica's thread writes
// on every message (its per-edge counters, the batch in hand, a processor's
// outputs) must not share a line with what another thread writes: a
// general-purpose allocator packs small blocks of one size side by side,
// whichever thread asked for them, and two stages' threads then take turns
// owning one line (false sharing; docs/performance.md, "False sharing").
template <class T>
struct LineAllocator {
  using value_type = T;
  LineAllocator() noexcept = default;
  template <class U>
  LineAllocator(const LineAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    const std::size_t bytes = (n * sizeof(T) + line_size - 1) / line_size * line_size;
    return static_cast<T*>(::operator new(bytes, std::align_val_t{line_size}));
  }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t{line_size}); }
  template <class U>
  bool operator==(const LineAllocator<U>&) const noexcept {
    return true;
  }
};

template <class T>
using LineVector = std::vector<T, LineAllocator<T>>;

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
