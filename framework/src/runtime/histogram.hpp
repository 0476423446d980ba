#pragma once
// A fixed-size log-linear histogram of durations: recording is two relaxed
// atomic operations on memory owned by one thread, so replicas record every
// message without contention; readers merge snapshots.

#include <weir/report.hpp>

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>

namespace weir::runtime {

class Histogram {
 public:
  // 8 sub-buckets per power of two of nanoseconds: about 12% resolution.
  static constexpr int sub_bits = 3;
  static constexpr int sub_count = 1 << sub_bits;
  static constexpr int bucket_count = 64 * sub_count;

  // Single writer: load + store instead of a read-modify-write.
  void record(std::uint64_t ns) noexcept {
    auto& slot = buckets_[index_of(ns)];
    slot.store(slot.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  void add_to(std::array<std::uint64_t, bucket_count>& totals) const noexcept {
    for (int i = 0; i < bucket_count; ++i) totals[i] += buckets_[i].load(std::memory_order_relaxed);
  }

  static Percentiles percentiles(const std::array<std::uint64_t, bucket_count>& totals) noexcept {
    Percentiles out;
    for (auto n : totals) out.samples += n;
    if (out.samples == 0) return out;
    out.p50_us = value_at(totals, out.samples, 0.50) / 1000.0;
    out.p99_us = value_at(totals, out.samples, 0.99) / 1000.0;
    return out;
  }

 private:
  static int index_of(std::uint64_t ns) noexcept {
    if (ns < sub_count) return static_cast<int>(ns);
    const int magnitude = 63 - std::countl_zero(ns);  // >= sub_bits
    const int shift = magnitude - sub_bits;
    const int sub = static_cast<int>((ns >> shift) & (sub_count - 1));
    return (shift + 1) * sub_count + sub;
  }
  // The midpoint of bucket i, in nanoseconds.
  static double midpoint(int i) noexcept {
    if (i < sub_count) return i;
    const int shift = i / sub_count - 1;
    const int sub = i % sub_count;
    const double low = static_cast<double>((static_cast<std::uint64_t>(sub_count + sub)) << shift);
    return low + static_cast<double>(1ull << shift) / 2.0;
  }
  static double value_at(const std::array<std::uint64_t, bucket_count>& totals, std::uint64_t samples,
                         double quantile) noexcept {
    const auto rank = static_cast<std::uint64_t>(quantile * static_cast<double>(samples - 1)) + 1;
    std::uint64_t seen = 0;
    for (int i = 0; i < bucket_count; ++i) {
      seen += totals[i];
      if (seen >= rank) return midpoint(i);
    }
    return midpoint(bucket_count - 1);
  }

  std::array<std::atomic<std::uint64_t>, bucket_count> buckets_{};
};

// A counter written by one thread and read by any.
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
