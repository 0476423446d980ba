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

// The histogram's fine buckets, Prometheus' fixed bounds, and which bound
// the durations of each bucket fall under.
namespace histogram_layout {

// The durations fine bucket i holds (see Histogram::index_of): `width`
// nanoseconds from `low`; buckets of 1 ns below 2^sub_bits, then 2^sub_bits
// buckets per power of two. Exact for every bucket a 64-bit duration reaches.
struct Bucket {
  std::uint64_t low;
  std::uint64_t width;
};
template <int sub_bits>
constexpr Bucket bucket_at(int i) noexcept {
  constexpr int sub_count = 1 << sub_bits;
  if (i < sub_count) return {static_cast<std::uint64_t>(i), 1};
  const int shift = i / sub_count - 1;
  return {static_cast<std::uint64_t>(sub_count + i % sub_count) << shift, std::uint64_t{1} << shift};
}

inline constexpr std::size_t bound_count = DurationHistogram::bounds_s.size();
// The bounds in nanoseconds, exact integers, so `le` means what it says.
inline constexpr std::array<std::uint64_t, bound_count> bounds_ns = [] {
  std::array<std::uint64_t, bound_count> out{};
  for (std::size_t i = 0; i < bound_count; ++i)
    out[i] = static_cast<std::uint64_t>(DurationHistogram::bounds_s[i] * 1e9 + 0.5);
  return out;
}();
// The first bound at or above `duration` (a binary search over 22: five compares).
constexpr std::size_t search_bound(std::uint64_t duration) noexcept {
  return static_cast<std::size_t>(std::lower_bound(bounds_ns.begin(), bounds_ns.end(), duration) - bounds_ns.begin());
}
// Per fine bucket, the bound index every duration in it has; `search` for
// the few buckets a bound cuts in two, and for those no duration reaches.
inline constexpr std::uint8_t search = 255;
static_assert(bound_count < search);
template <int sub_bits, int bucket_count>
constexpr std::array<std::uint8_t, bucket_count> bound_of_buckets() {
  std::array<std::uint8_t, bucket_count> out{};
  for (int i = 0; i < bucket_count; ++i) {
    if (i / (1 << sub_bits) - 1 > 63 - sub_bits) {  // beyond 2^64 ns
      out[i] = search;
      continue;
    }
    const Bucket bucket = bucket_at<sub_bits>(i);
    const std::size_t first = search_bound(bucket.low);
    out[i] = first == search_bound(bucket.low + (bucket.width - 1)) ? static_cast<std::uint8_t>(first) : search;
  }
  return out;
}

}  // namespace histogram_layout

class Histogram {
 public:
  // 8 sub-buckets per power of two of nanoseconds: about 12% resolution.
  static constexpr int sub_bits = 3;
  static constexpr int sub_count = 1 << sub_bits;
  static constexpr int bucket_count = 64 * sub_count;
  static constexpr std::size_t bound_count = histogram_layout::bound_count;
  static constexpr auto bound_of_bucket = histogram_layout::bound_of_buckets<sub_bits, bucket_count>();

  // The sum of several replicas' histograms.
  struct Totals {
    std::array<std::uint64_t, bucket_count> fine{};
    std::array<std::uint64_t, bound_count + 1> at_bounds{};
    std::uint64_t sum_ns = 0;
  };

  // Single writer: load + store instead of a read-modify-write.
  void record(std::uint64_t ns) noexcept {
    const int bucket = index_of(ns);
    increment(buckets_[bucket], 1);
    increment(at_bounds_[bound_index_of(ns, bucket)], 1);
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
  // The bound index of `ns`, whose fine bucket is `bucket`: a table look-up
  // for almost every duration, exact for all.
  static std::size_t bound_index_of(std::uint64_t ns, int bucket) noexcept {
    const std::uint8_t known = bound_of_bucket[static_cast<std::size_t>(bucket)];
    return known != histogram_layout::search ? known : histogram_layout::search_bound(ns);
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
    const auto bucket = histogram_layout::bucket_at<sub_bits>(i);
    return static_cast<double>(bucket.low) + static_cast<double>(bucket.width) / 2.0;
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
