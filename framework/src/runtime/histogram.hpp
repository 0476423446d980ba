#pragma once
// A fixed-size log-linear histogram of durations (for percentiles), with the
// same durations counted at Prometheus' fixed bounds and summed: recording is
// three relaxed load/store pairs on memory owned by one thread, so replicas
// record every message without contention or allocation; readers merge
// snapshots.

#include <weir/report.hpp>

#include <array>
#include <algorithm>
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
  static constexpr std::size_t bound_count = DurationHistogram::bounds_s.size();

  // The sum of several replicas' histograms.
  struct Totals {
    std::array<std::uint64_t, bucket_count> fine{};
    std::array<std::uint64_t, bound_count + 1> at_bounds{};
    std::uint64_t sum_ns = 0;
  };

  // Single writer: load + store instead of a read-modify-write.
  void record(std::uint64_t ns) noexcept {
    increment(buckets_[index_of(ns)], 1);
    increment(at_bounds_[bound_index_of(ns)], 1);
    increment(sum_ns_, ns);
  }

  void add_to(Totals& totals) const noexcept {
    for (int i = 0; i < bucket_count; ++i) totals.fine[i] += buckets_[i].load(std::memory_order_relaxed);
    for (std::size_t i = 0; i <= bound_count; ++i) totals.at_bounds[i] += at_bounds_[i].load(std::memory_order_relaxed);
    totals.sum_ns += sum_ns_.load(std::memory_order_relaxed);
  }

  static Percentiles percentiles(const Totals& totals) noexcept {
    Percentiles out;
    std::copy(totals.at_bounds.begin(), totals.at_bounds.end(), out.histogram.counts.begin());
    out.histogram.sum_s = static_cast<double>(totals.sum_ns) / 1e9;
    for (auto n : totals.fine) out.samples += n;
    if (out.samples == 0) return out;
    out.p50_us = value_at(totals.fine, out.samples, 0.50) / 1000.0;
    out.p99_us = value_at(totals.fine, out.samples, 0.99) / 1000.0;
    return out;
  }

 private:
  static void increment(std::atomic<std::uint64_t>& bucket, std::uint64_t n) noexcept {
    bucket.store(bucket.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  // The bounds in nanoseconds, exact integers, so `le` means what it says.
  static constexpr std::array<std::uint64_t, bound_count> bounds_ns = [] {
    std::array<std::uint64_t, bound_count> out{};
    for (std::size_t i = 0; i < bound_count; ++i)
      out[i] = static_cast<std::uint64_t>(DurationHistogram::bounds_s[i] * 1e9 + 0.5);
    return out;
  }();
  // The first bound at or above `ns` (a binary search over 22: five compares).
  static std::size_t bound_index_of(std::uint64_t ns) noexcept {
    return static_cast<std::size_t>(std::lower_bound(bounds_ns.begin(), bounds_ns.end(), ns) - bounds_ns.begin());
  }
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
  std::array<std::atomic<std::uint64_t>, bound_count + 1> at_bounds_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

}  // namespace weir::runtime
