#pragma once
// A move-only payload that counts live instances, so tests can prove the
// channel constructs and destroys exactly what it should.

#include <atomic>
#include <utility>

namespace weir::test {

struct Counted {
  static inline std::atomic<long> live{0};

  explicit Counted(int v) noexcept : value(v) { live.fetch_add(1, std::memory_order_relaxed); }
  Counted(Counted&& other) noexcept : value(std::exchange(other.value, -1)) { live.fetch_add(1, std::memory_order_relaxed); }
  Counted& operator=(Counted&& other) noexcept {
    value = std::exchange(other.value, -1);
    return *this;
  }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
  ~Counted() { live.fetch_sub(1, std::memory_order_relaxed); }

  int value;
};

}  // namespace weir::test
